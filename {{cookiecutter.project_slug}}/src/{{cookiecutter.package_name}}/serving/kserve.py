"""Command `manifests`: a KServe InferenceService for each stage, from `serving:` and the registry.

`make manifests` writes `<kserve.output>/<stage>.yaml` for every stage that holds a version. Each
runs the serving image of that version (the one the deploy workflow pushes, tagged with the
version) as KServe's custom predictor container, which speaks the Open Inference Protocol (v2).
A stage whose `serving.stages.<stage>.strategy` is canary sends its `canary_share` of traffic
to a candidate's version: while a promotion rolls out, the promoted version (the rest stays on
the primary); with a `candidate` stage that comes before it in .gto's order, that stage's version.
KServe keeps the version it last rolled out for the rest, so apply the plain manifest first, the
canary one when the candidate is ready. The other strategies run in one process (`make serve`),
so KServe gets one version: a rolling stage's primary, any other stage's latest.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..config import ROLLING, KServeParams, Params, ServingParams, load_params
from ..errors import PipelineError
from ..outputs import atomic_path

API_VERSION = "serving.kserve.io/v1beta1"
PORT = 8080
# Knative runs canaries; the Standard (raw Deployment) mode ignores canaryTrafficPercent.
# KServe 0.20 calls the mode Knative (before: Serverless).
DEPLOYMENT_MODE = {"serving.kserve.io/deploymentMode": "Knative"}
# KServe appends "-predictor-<namespace>" and more to the name for its services: keep it short.
NAME = re.compile(r"[a-z]([-a-z0-9]{0,43}[a-z0-9])?")
HEADER = (
    "# Rendered by `make manifests` from params.yaml (serving:, kserve:) and the registry's tags:\n"
    "# edit those and render again rather than this file. Apply: kubectl apply -f {path}\n"
)


def service_name(image: str, stage: str) -> str:
    """The InferenceService's name: the image's own name and the stage, as a DNS label."""
    name = f"{image.rsplit('/', 1)[-1]}-{stage}".lower().replace("_", "-").replace(".", "-")
    if not NAME.fullmatch(name):
        raise PipelineError(
            f"'{name}' cannot name an InferenceService (lowercase letters, digits and '-', starting with "
            "a letter, at most 45 characters): shorten the last part of kserve.image or the stage name"
        )
    return name


def container(settings: KServeParams, version: str) -> dict[str, Any]:
    """KServe's custom predictor container: the serving image of one version, probed over v2."""
    return {
        "name": "kserve-container",  # the name KServe expects of a custom predictor
        "image": f"{settings.image}:{version}",
        "ports": [{"containerPort": PORT, "protocol": "TCP"}],
        "readinessProbe": {"httpGet": {"path": "/v2/health/ready", "port": PORT}},
        "livenessProbe": {"httpGet": {"path": "/v2/health/live", "port": PORT}},
        "resources": {
            "requests": {"cpu": settings.cpu, "memory": settings.memory},
            "limits": {"memory": settings.memory},
        },
    }


def inference_service(
    stage: str, version: str, settings: KServeParams, canary: tuple[str, float] | None = None
) -> dict[str, Any]:
    """One stage's InferenceService; with a canary, the candidate's version takes its share of traffic."""
    served, share = (canary[0], canary[1]) if canary else (version, None)
    predictor: dict[str, Any] = {
        "minReplicas": settings.min_replicas,
        "maxReplicas": settings.max_replicas,
        "containers": [container(settings, served)],
    }
    annotations = {"prometheus.kserve.io/port": str(PORT), "prometheus.kserve.io/path": "/metrics"}
    if share is not None:
        predictor["canaryTrafficPercent"] = round(share * 100)
        annotations |= DEPLOYMENT_MODE
    return {
        "apiVersion": API_VERSION,
        "kind": "InferenceService",
        "metadata": {
            "name": service_name(settings.image, stage),
            "labels": {"model-stage": stage, "model-version": served},
            "annotations": annotations,
        },
        "spec": {"predictor": predictor},
    }


@dataclass(frozen=True)
class Held:
    """What a stage holds: its primary, and the version a promotion is rolling out beside it."""

    primary: str
    candidate: str | None = None

    @property
    def latest(self) -> str:
        return self.candidate or self.primary


def served(
    stage: str, stages: list[str], serving: ServingParams, held: dict[str, Held]
) -> tuple[str, tuple[str, float] | None]:
    """The version a stage's manifest runs, and the canary beside it (its version, its share)."""
    settings, own = serving.stage(stage), held[stage]
    rolling = settings.strategy in ROLLING and not settings.candidate
    version = own.primary if rolling else own.latest
    if settings.strategy != "canary":
        return version, None
    if settings.candidate is None:
        return version, (own.candidate, settings.canary_share) if own.candidate else None
    source = settings.candidate
    earlier = source in held and stages.index(source) < stages.index(stage)
    differs = earlier and held[source].latest != version
    return version, (held[source].latest, settings.canary_share) if differs else None


def registry_state(only: str | None) -> tuple[list[str], dict[str, Held]]:
    """The stages in promotion order (`only` must be one), and what each holds now."""
    from ..registry.policy import rollout_state  # GTO: this command only
    from ..registry.versions import known_stages, promotion_order, registry_events

    stages = known_stages(only) if only else promotion_order()
    events = registry_events()
    held = {}
    for stage in stages:
        if rollout := rollout_state(events, stage):
            pending = rollout.candidate.version if rollout.candidate else None
            held[stage] = Held(rollout.primary.version, pending)
    return stages, held


def kserve_settings(params: Params) -> KServeParams:
    """params.yaml's kserve: section, which names the image."""
    if params.kserve is None:
        raise PipelineError(
            "params.yaml has no kserve: section: add one with at least "
            "`image: ghcr.io/OWNER/NAME` (the serving image, without a tag)"
        )
    return params.kserve


def render(
    settings: KServeParams, serving: ServingParams, stages: list[str], held: dict[str, Held]
) -> dict[str, dict[str, Any]]:
    """The manifest of each stage that holds a version, by stage."""
    manifests = {}
    for stage in (stage for stage in stages if stage in held):
        version, canary = served(stage, stages, serving, held)
        manifests[stage] = inference_service(stage, version, settings, canary)
    return manifests


def push_refusal(image: str, owner: str | None) -> str | None:
    """Why this repository's workflow token may not push the image, if it may not: GitHub's
    registry takes from a workflow only images under its own owner."""
    if owner and image.startswith("ghcr.io/") and not image.startswith(f"ghcr.io/{owner.lower()}/"):
        return (
            f"kserve.image {image} is not under ghcr.io/{owner.lower()}/, where this repository's "
            "workflow token may push: set kserve.image in params.yaml (or the repository variable "
            "PUSH_SERVING_IMAGE to false)"
        )
    return None


def parser() -> argparse.ArgumentParser:
    command = argparse.ArgumentParser(
        prog=f"python -m {__package__.rsplit('.', 1)[0]} manifests", description=__doc__
    )
    command.add_argument("--stage", help="render only this stage (default: every stage that holds a version)")
    command.add_argument(
        "--image", action="store_true", help="print the serving image's repository (kserve.image) and stop"
    )
    command.add_argument(
        "--push",
        action="store_true",
        help="with --image: print nothing, and warn, if this repository's workflow may not push it",
    )
    return command


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    with atomic_path(path) as temporary:
        text = HEADER.format(path=path) + yaml.safe_dump(manifest, sort_keys=False)
        temporary.write_text(text, encoding="utf-8")
    predictor = manifest["spec"]["predictor"]
    share = predictor.get("canaryTrafficPercent")
    split = f" for {share}% of traffic, the rest on the version KServe last rolled out" if share else ""
    print(f"manifests: {path}: {predictor['containers'][0]['image']}{split}")


def main(argv: list[str]) -> None:
    arguments = parser().parse_args(argv)
    params = load_params()
    settings = kserve_settings(params)
    if arguments.image:
        refusal = push_refusal(settings.image, os.environ.get("GITHUB_REPOSITORY_OWNER"))
        if arguments.push and refusal:  # a warning, not a failure: the model itself is deployed
            print(f"::warning title=Serving image not pushed::{refusal}", file=sys.stderr)
            return
        print(settings.image)
        return
    from ..registry.versions import known_serving  # GTO: this command only

    serving = known_serving(params.serving)
    stages, held = registry_state(arguments.stage)
    wanted = [arguments.stage] if arguments.stage else stages
    manifests = render(settings, serving, stages, held)
    if not any(stage in manifests for stage in wanted):
        raise PipelineError(
            f"no version is assigned to {' or '.join(wanted)} yet, so there is no image to run: "
            "`make promote VERSION=... STAGE=...` first"
        )
    for stage in wanted:
        if stage in manifests:
            write_manifest(settings.output / f"{stage}.yaml", manifests[stage])
        else:
            print(f"manifests: {stage} holds no version yet: no manifest")
