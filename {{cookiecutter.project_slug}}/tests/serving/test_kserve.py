import json
import shutil

import pytest

from {{ cookiecutter.package_name }}.config import KServeParams, ServingParams
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.serving.kserve import push_refusal, render
from {{ cookiecutter.package_name }}.serving.loaded import load_bundle
from {{ cookiecutter.package_name }}.tables import file_md5

from .helpers import trained

STAGES = ["dev", "staging", "prod"]
KSERVE = KServeParams(image="ghcr.io/acme/churn")
CANARY = ServingParams(strategy="canary", candidate="staging", canary_share=0.1)


def predictor(manifest):
    return manifest["spec"]["predictor"]


def test_each_stage_that_holds_a_version_runs_that_versions_image_probed_over_v2():
    manifests = render(KSERVE, ServingParams(), STAGES, {"staging": "v1.1.0", "prod": "v1.0.0"})

    assert list(manifests) == ["staging", "prod"]
    prod = manifests["prod"]
    assert (prod["apiVersion"], prod["kind"]) == ("serving.kserve.io/v1beta1", "InferenceService")
    assert prod["metadata"]["name"] == "churn-prod"
    [container] = predictor(prod)["containers"]
    assert container["name"] == "kserve-container"
    assert container["image"] == "ghcr.io/acme/churn:v1.0.0"
    assert container["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert "canaryTrafficPercent" not in predictor(prod)


def test_a_canary_sends_its_share_of_each_later_stage_to_the_candidates_version():
    held = {"dev": "v1.2.0", "staging": "v1.1.0", "prod": "v1.0.0"}

    manifests = render(KSERVE, CANARY, STAGES, held)

    prod = manifests["prod"]
    assert predictor(prod)["canaryTrafficPercent"] == 10
    assert predictor(prod)["containers"][0]["image"] == "ghcr.io/acme/churn:v1.1.0"
    assert prod["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Knative"
    for earlier in ("dev", "staging"):  # the candidate itself and the stages before it: no canary
        assert "canaryTrafficPercent" not in predictor(manifests[earlier])
        assert predictor(manifests[earlier])["containers"][0]["image"].endswith(held[earlier])


@pytest.mark.parametrize(
    ("serving", "held"),
    [
        (ServingParams(strategy="canary", candidate="local"), {"prod": "v1.0.0"}),  # a working copy
        (CANARY, {"prod": "v1.0.0"}),  # the candidate stage holds nothing yet
        (CANARY, {"staging": "v1.0.0", "prod": "v1.0.0"}),  # the candidate holds the same version
        (ServingParams(strategy="shadow", candidate="staging"), {"staging": "v1.1.0", "prod": "v1.0.0"}),
    ],
    ids=["local candidate", "empty candidate stage", "same version", "shadow"],
)
def test_without_a_candidate_image_to_split_to_a_stage_runs_its_own_version_alone(serving, held):
    prod = render(KSERVE, serving, STAGES, held)["prod"]

    assert "canaryTrafficPercent" not in predictor(prod)
    assert predictor(prod)["containers"][0]["image"] == "ghcr.io/acme/churn:v1.0.0"


def test_a_name_kubernetes_would_refuse_is_an_error_that_says_what_to_shorten():
    long = KServeParams(image="ghcr.io/acme/" + "x" * 50)

    with pytest.raises(PipelineError, match=r"shorten the last part of kserve\.image or the stage name"):
        render(long, ServingParams(), STAGES, {"prod": "v1.0.0"})


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
