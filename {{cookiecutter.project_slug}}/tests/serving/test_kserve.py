import json
import shutil

import pytest

from {{ cookiecutter.package_name }}.config import KServeParams, ServingParams
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.serving.kserve import Held, push_refusal, render
from {{ cookiecutter.package_name }}.serving.loaded import load_bundle
from {{ cookiecutter.package_name }}.tables import file_md5

from .helpers import trained

STAGES = ["dev", "staging", "prod"]
KSERVE = KServeParams(image="ghcr.io/acme/churn")
CANARY = ServingParams(stages={"prod": {"strategy": "canary", "candidate": "staging", "canary_share": 0.1}})


def serving(strategy, **settings):
    """prod served under this strategy."""
    return ServingParams(stages={"prod": {"strategy": strategy, **settings}})


def holding(**versions):
    """Each stage holding one version, no rollout in progress."""
    return {stage: Held(version) for stage, version in versions.items()}


def predictor(manifest):
    return manifest["spec"]["predictor"]


def test_each_stage_that_holds_a_version_runs_that_versions_image_probed_over_v2():
    manifests = render(KSERVE, ServingParams(), STAGES, holding(staging="v1.1.0", prod="v1.0.0"))

    assert list(manifests) == ["staging", "prod"]
    prod = manifests["prod"]
    assert (prod["apiVersion"], prod["kind"]) == ("serving.kserve.io/v1beta1", "InferenceService")
    assert prod["metadata"]["name"] == "churn-prod"
    [container] = predictor(prod)["containers"]
    assert container["name"] == "kserve-container"
    assert container["image"] == "ghcr.io/acme/churn:v1.0.0"
    assert container["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert "canaryTrafficPercent" not in predictor(prod)


def test_a_canary_stage_sends_its_share_to_its_candidate_stages_version():
    held = {"dev": "v1.2.0", "staging": "v1.1.0", "prod": "v1.0.0"}

    manifests = render(KSERVE, CANARY, STAGES, holding(**held))

    prod = manifests["prod"]
    assert predictor(prod)["canaryTrafficPercent"] == 10
    assert predictor(prod)["containers"][0]["image"] == "ghcr.io/acme/churn:v1.1.0"
    assert prod["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Knative"
    for earlier in ("dev", "staging"):  # served recreate: no canary
        assert "canaryTrafficPercent" not in predictor(manifests[earlier])
        assert predictor(manifests[earlier])["containers"][0]["image"].endswith(held[earlier])


def test_a_canary_stage_rolling_out_a_promotion_sends_its_share_to_the_promoted_version():
    held = {"prod": Held("v1.0.0", candidate="v1.1.0")}

    canary = predictor(render(KSERVE, serving("canary", canary_share=0.25), STAGES, held)["prod"])
    shadow = predictor(render(KSERVE, serving("shadow"), STAGES, held)["prod"])
    recreate = predictor(render(KSERVE, serving("recreate"), STAGES, held)["prod"])

    assert canary["canaryTrafficPercent"] == 25
    assert canary["containers"][0]["image"] == "ghcr.io/acme/churn:v1.1.0"
    # KServe cannot shadow: a rolling stage runs its primary; a recreate one, the version promoted.
    assert "canaryTrafficPercent" not in shadow
    assert shadow["containers"][0]["image"] == "ghcr.io/acme/churn:v1.0.0"
    assert "canaryTrafficPercent" not in recreate
    assert recreate["containers"][0]["image"] == "ghcr.io/acme/churn:v1.1.0"


@pytest.mark.parametrize(
    ("settings", "held"),
    [
        (serving("canary", candidate="local"), holding(prod="v1.0.0")),  # a working copy
        (CANARY, holding(prod="v1.0.0")),  # the candidate stage holds nothing yet
        (CANARY, holding(staging="v1.0.0", prod="v1.0.0")),  # the candidate holds the same version
        (serving("shadow", candidate="staging"), holding(staging="v1.1.0", prod="v1.0.0")),
        (serving("canary"), holding(prod="v1.0.0")),  # no rollout in progress
    ],
    ids=["local candidate", "empty candidate stage", "same version", "shadow", "no rollout"],
)
def test_without_a_candidate_image_to_split_to_a_stage_runs_its_own_version_alone(settings, held):
    prod = render(KSERVE, settings, STAGES, held)["prod"]

    assert "canaryTrafficPercent" not in predictor(prod)
    assert predictor(prod)["containers"][0]["image"] == "ghcr.io/acme/churn:v1.0.0"


def test_a_name_kubernetes_would_refuse_is_an_error_that_says_what_to_shorten():
    long = KServeParams(image="ghcr.io/acme/" + "x" * 50)

    with pytest.raises(PipelineError, match=r"shorten the last part of kserve\.image or the stage name"):
        render(long, ServingParams(), STAGES, holding(prod="v1.0.0"))


def test_an_image_outside_the_owners_namespace_on_githubs_registry_is_not_pushable():
    assert push_refusal("ghcr.io/acme/churn", "Acme") is None
    assert push_refusal("registry.example.com/team/churn", "acme") is None
    assert "is not under ghcr.io/someone/" in (push_refusal("ghcr.io/acme/churn", "someone") or "")


def test_an_uppercase_or_tagged_image_is_refused_when_params_are_read():
    for image in ("ghcr.io/Acme/churn", "ghcr.io/acme/churn:v1"):
        with pytest.raises(ValueError, match="image"):
            KServeParams(image=image)


def test_a_bundle_serves_its_recorded_version_and_a_tampered_model_is_refused(tmp_path):
    setup = trained("classification", tmp_path / "trained")
    bundle = tmp_path / "model-v2.0.0-prod"
    bundle.mkdir()
    model = shutil.copy(setup.params.paths.model, bundle / "model.skops")
    shutil.copy(setup.params.paths.model_metadata, bundle / "model.json")
    recorded = {"file": "model.skops", "md5": file_md5(model)}
    metadata = {"version": "v2.0.0", "tag": "model#prod#4", "model": recorded}
    (bundle / "metadata.json").write_text(json.dumps(metadata))

    loaded = load_bundle(bundle)
    assert (loaded.version, loaded.features) == ("v2.0.0", setup.model.features)

    with model.open("ab") as appended:
        appended.write(b"\0")
    with pytest.raises(PipelineError, match="refusing to serve it"):
        load_bundle(bundle)
