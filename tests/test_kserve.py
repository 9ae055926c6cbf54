"""Beyond one machine: the serving image and the KServe manifests a generated project writes.

The manifests are validated against KServe's own InferenceService schema (vendored, with its
version, under tests/schemas/kserve/), the Dockerfile by hadolint. No container engine runs
here: the image's contents are assembled as its COPY lines say and served by the same command
its ENTRYPOINT runs, and `docker` itself is a stand-in that records what `make image` asks of it.
"""

from __future__ import annotations

import copy
import csv
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from .act_harness import STAND_INS
from .conftest import PACKAGE, copy_project, free_port, project_env, run
from .test_serving import http, stop, typed_rows, wait_until_ready
from .test_workflows import tool

SCHEMA = Path(__file__).parent / "schemas" / "kserve" / "inferenceservice-v1beta1.json"
ENV = project_env(DVC_NO_ANALYTICS="1")
OVERRIDE = "Assign by hand\n\noverride: the KServe test deploys without model tests"


def strict(schema: Any) -> Any:
    """The schema as `kubectl apply` holds a manifest to (strict field validation): an object's
    unknown fields are errors, except where the schema keeps unknown fields on purpose."""
    if isinstance(schema, dict):
        closed = {key: strict(value) for key, value in schema.items()}
        if "properties" in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
            closed.setdefault("additionalProperties", False)
        return closed
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    return schema


@pytest.fixture(scope="module")
def inference_service() -> jsonschema.protocols.Validator:
    vendored = json.loads(SCHEMA.read_text())
    schema = strict(vendored["openAPIV3Schema"])
    schema["properties"]["apiVersion"] = {"const": f"{vendored['group']}/{vendored['version']}"}
    schema["properties"]["kind"] = {"const": vendored["kind"]}
    return jsonschema.Draft7Validator(schema)


def problems(validator: jsonschema.protocols.Validator, manifest: dict) -> list[str]:
    return [
        f"{'.'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(manifest)
    ]


@pytest.mark.parametrize(
    "answers", [{"task": "classification"}, {"task": "regression", "python_version": "3.13"}]
)
def test_the_serving_dockerfile_is_clean_under_hadolint_and_runs_the_projects_python(bake_once, answers):
    project = bake_once(**answers)
    dockerfile = project / "Dockerfile"

    linted = subprocess.run(
        [tool("hadolint"), "--no-color", str(dockerfile)],
        capture_output=True,
        text=True,
    )

    assert linted.returncode == 0, linted.stdout + linted.stderr
    python = (project / ".python-version").read_text().strip()
    assert re.search(
        rf"^ARG PYTHON_IMAGE=python:{re.escape(python)}\.\d+-slim-trixie$", dockerfile.read_text(), re.M
    )
    assert f'"-m", "{PACKAGE}", "serve", "--bundle"' in dockerfile.read_text()


def hand_tag(project: Path, tag: str, target: str, message: str) -> None:
    run("git", "tag", "-a", tag, f"{target}^{{commit}}", "-m", message, cwd=project, env=ENV)


@pytest.fixture(scope="module")
def deployed(ready_project, tmp_path_factory) -> Path:
    """A trained project whose v0.1.0 holds prod (deployed: its bundle is built) and whose v0.2.0
    holds staging, prod served with a 10% canary of staging."""
    root = tmp_path_factory.mktemp("kserve")
    project = copy_project(ready_project("classification"), root)
    run("uv", "run", "dvc", "remote", "modify", "storage", "url", str(root / "storage"), cwd=project, env=ENV)
    run("git", "add", "-A", cwd=project, env=ENV)
    run("git", "commit", "--quiet", "--no-verify", "-m", "Train the first model", cwd=project, env=ENV)
    run("make", "push", cwd=project, env=ENV)
    run("make", "register", cwd=project, env=ENV)
    hand_tag(project, "model#prod#1", "model@v0.1.0", OVERRIDE)
    run("make", "deploy", "TAG=model#prod#1", "MODEL_PUBLISHER=true", cwd=project, env=ENV)
    run("git", "commit", "--quiet", "--allow-empty", "-m", "A second version", cwd=project, env=ENV)
    hand_tag(project, "model@v0.2.0", "HEAD", "Registering v0.2.0")
    hand_tag(project, "model#staging#2", "model@v0.2.0", OVERRIDE)
    params = project / "params.yaml"
    text = params.read_text().replace(
        "prod: {strategy: recreate}", "prod: {strategy: canary, candidate: staging}"
    )
    params.write_text(text)
    return project


@pytest.mark.slow
def test_make_manifests_writes_a_schema_valid_inference_service_per_stage_with_the_canary(
    deployed, inference_service
):
    result = run("make", "manifests", cwd=deployed, env=ENV)

    written = sorted(path.name for path in (deployed / "deploy" / "kserve").iterdir())
    assert written == ["prod.yaml", "staging.yaml"]
    assert "manifests: dev holds no version yet: no manifest" in result.stdout
    manifests = {
        name: yaml.safe_load((deployed / "deploy" / "kserve" / name).read_text()) for name in written
    }
    for name, manifest in manifests.items():
        assert problems(inference_service, manifest) == [], name
    image = "ghcr.io/your-github-user/customer-churn"
    staging, prod = (
        manifests["staging.yaml"]["spec"]["predictor"],
        manifests["prod.yaml"]["spec"]["predictor"],
    )
    assert staging["containers"][0]["image"] == f"{image}:v0.2.0" and "canaryTrafficPercent" not in staging
    assert prod["containers"][0]["image"] == f"{image}:v0.2.0" and prod["canaryTrafficPercent"] == 10
    assert manifests["prod.yaml"]["metadata"]["name"] == "customer-churn-prod"

    # The validator is strict enough to catch what kubectl would refuse: a typo, a wrong type.
    broken = copy.deepcopy(manifests["prod.yaml"])
    broken["spec"]["predictor"]["canaryTrafficPercent"] = "10"
    broken["spec"]["predictor"]["containres"] = broken["spec"]["predictor"].pop("containers")
    assert len(problems(inference_service, broken)) == 2


@pytest.mark.slow
def test_make_manifests_refuses_an_unknown_stage_and_a_stage_that_holds_nothing(deployed):
    unknown = run("make", "manifests", "STAGE=qa", cwd=deployed, env=ENV, check=False)
    empty = run("make", "manifests", "STAGE=dev", cwd=deployed, env=ENV, check=False)

    assert unknown.returncode != 0 and empty.returncode != 0
    assert "manifests: error: unknown stage 'qa': the stages are dev, staging, prod" in unknown.stderr
    assert "manifests: error: no version is assigned to dev yet" in empty.stderr
    assert "Traceback" not in unknown.stderr + empty.stderr
    assert not (deployed / "deploy" / "kserve" / "dev.yaml").exists()


def image_context(project: Path, bundle: str, context: Path) -> list[str]:
    """Lay out the runtime image as the Dockerfile's COPY lines say; return its ENTRYPOINT."""
    text = (project / "Dockerfile").read_text().replace("${BUNDLE}", bundle)
    for sources, destination in re.findall(r"^COPY (?!--from)(.+) (\S+)$", text, re.M):
        for source in sources.split():
            target = (
                context / destination / Path(source).name
                if destination.endswith("/")
                else context / destination
            )
            copier = shutil.copytree if (project / source).is_dir() else shutil.copy
            copier(project / source, target)
    [sync] = re.findall(r"^RUN (uv sync .+)$", text, re.M)
    run(*sync.split(), cwd=context, env={**ENV, "UV_PROJECT_ENVIRONMENT": str(context / ".venv")})
    [entrypoint] = re.findall(r"^ENTRYPOINT (\[.+\])$", text, re.M)
    return json.loads(entrypoint)


@pytest.mark.slow
def test_the_images_contents_serve_the_verified_bundle_without_git_or_development_tools(deployed, tmp_path):
    context = tmp_path / "app"
    context.mkdir()
    command = image_context(deployed, "build/deploy/model-v0.1.0-prod", context)
    assert (
        not (context / ".venv" / "bin" / "gto").exists() and not (context / ".venv" / "bin" / "dvc").exists()
    )
    port = free_port()
    command = [str(context / ".venv" / "bin" / "python"), *command[1:]]
    command[command.index("0.0.0.0")] = "127.0.0.1"
    command[command.index("8080")] = str(port)
    with (deployed / "data/processed/test.csv").open() as source:
        rows = typed_rows(deployed, list(csv.DictReader(source))[:3])
    output = tmp_path / "serve.log"
    with output.open("w") as log:
        server = subprocess.Popen(
            command, cwd=context, env=ENV, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_until_ready(server, f"http://127.0.0.1:{port}", output)
        status, body = http("POST", f"http://127.0.0.1:{port}/predict", rows)
    finally:
        stop(server)

    assert status == 200, body
    assert json.loads(body)["model_version"] == "v0.1.0"
    assert (
        "serve: recreate on" in output.read_text()
    )  # KServe splits traffic; the container serves one version

    model = context / "bundle" / "model.skops"
    model.write_bytes(model.read_bytes() + b"tampered")
    refused = run(*command[:-4], cwd=context, env=ENV, check=False)
    assert refused.returncode == 1
    assert "refusing to serve it" in refused.stderr and "Traceback" not in refused.stderr


@pytest.mark.slow
def test_make_image_builds_the_bundle_into_version_and_stage_tags_and_image_push_pushes_them(
    deployed, tmp_path
):
    calls = tmp_path / "calls"
    env = {**ENV, "PATH": f"{STAND_INS / 'docker'}:{ENV['PATH']}", "STAND_IN_DOCKER_CALLS": str(calls)}
    image = "ghcr.io/your-github-user/customer-churn"
    versioned = ["VERSION=v0.1.0", "STAGE=prod"]

    run("make", "image", *versioned, cwd=deployed, env=env)
    run(
        "make",
        "image-push",
        *versioned,
        "REGISTRY_USER=someone",
        "REGISTRY_TOKEN=s3cret",
        cwd=deployed,
        env=env,
    )
    elsewhere = run(
        "make",
        "image-push",
        *versioned,
        cwd=deployed,
        env={**env, "GITHUB_REPOSITORY_OWNER": "Other"},
        check=False,
    )
    missing = run("make", "image", "VERSION=v9.9.9", "STAGE=prod", cwd=deployed, env=env, check=False)

    assert calls.read_text().splitlines() == [
        "docker build --build-arg BUNDLE=build/deploy/model-v0.1.0-prod "
        f"--tag {image}:v0.1.0 --tag {image}:prod .",
        "docker login ghcr.io --username someone --password-stdin",
        "stdin s3cret",
        f"docker push {image}:v0.1.0",
        f"docker push {image}:prod",
    ]
    # Another owner's namespace: a warning and no push, and the deploy stays green.
    assert elsewhere.returncode == 0
    warning = f"::warning title=Serving image not pushed::kserve.image {image} is not under ghcr.io/other/"
    assert warning in elsewhere.stderr
    assert missing.returncode != 0 and "image: no bundle build/deploy/model-v9.9.9-prod" in missing.stderr
