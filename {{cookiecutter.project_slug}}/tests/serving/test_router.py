import dataclasses
import json

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.config import ServingParams
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.serving.router import Router
from {{ cookiecutter.package_name }}.serving.server import stage_settings

from ..conftest import commit
from .helpers import client, records, service, trained


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    return trained("classification", tmp_path_factory.mktemp("serving"))


class Always:
    """A stand-in model that predicts one class whatever it is shown."""

    classes_ = np.array(["high", "low"])

    def __init__(self, label):
        self.label = label

    def predict(self, frame):
        return np.array([self.label] * len(frame))

    def predict_proba(self, frame):
        return np.array([[1.0, 0.0] if self.label == "high" else [0.0, 1.0]] * len(frame))


@pytest.fixture
def candidate(setup):
    return dataclasses.replace(setup.model, version="v2.0.0", pipeline=Always("high"))


def test_canary_sends_its_share_of_keys_to_the_candidate(setup, candidate):
    router = Router("canary", setup.model, candidate, canary_share=0.1)

    chosen = [router.route(f"customer-{number}").answer.version for number in range(2_000)]

    assert abs(chosen.count("v2.0.0") / 2_000 - 0.1) <= 0.03


def test_canary_keys_are_sticky(setup, candidate):
    router = Router("canary", setup.model, candidate, canary_share=0.5)

    for number in range(200):
        first = router.route(f"key-{number}").answer.version
        assert all(router.route(f"key-{number}").answer.version == first for _ in range(5))


def test_canary_through_the_api_follows_the_sticky_header(setup, candidate):
    api = client(service(setup, "canary", candidate, log=False))
    rows = records(setup.frame, 1)

    versions = {
        key: {api.post("/predict", json=rows, headers={"x-request-key": key}).json()["model_version"]}
        for key in (f"k{n}" for n in range(60))
    }

    assert all(len(seen) == 1 for seen in versions.values())
    assert {"v1.0.0", "v2.0.0"} == set().union(*versions.values())


def test_shadow_never_changes_an_answer_but_is_logged_and_counted(setup, candidate):
    stable_only = client(service(setup, log=False))
    served = service(setup, "shadow", candidate)
    shadowed = client(served)
    rows = records(setup.frame, 30)

    expected = stable_only.post("/predict", json=rows).json()
    answered = shadowed.post("/predict", json=rows, headers={"x-request-id": "s-1"}).json()
    served.log.close()

    assert answered["predictions"] == expected["predictions"]
    assert answered["probabilities"] == expected["probabilities"]
    assert answered["model_version"] == "v1.0.0"
    entries = [
        json.loads(line)
        for path in setup.params.serving.log_dir.glob("*.jsonl")
        for line in path.read_text().splitlines()
    ]
    roles = {entry["role"]: entry for entry in entries if entry["request_id"] == "s-1"}
    assert roles["shadow"]["model_version"] == "v2.0.0"
    assert roles["shadow"]["outputs"]["predictions"] == ["high"] * 30
    metrics = shadowed.get("/metrics").text
    assert 'serving_rows_scored_total{model_version="v2.0.0",role="shadow"} 30.0' in metrics
    differing = sum(label != "high" for label in expected["predictions"])
    disagreements = 'serving_shadow_disagreements_total{model_version="v2.0.0"}'
    assert f"{disagreements} {float(differing)}" in metrics


def test_blue_green_switches_at_once_and_rolls_back(setup, candidate):
    api = client(service(setup, "blue-green", candidate, log=False))
    rows = records(setup.frame, 1)

    def version():
        return api.post("/predict", json=rows).json()["model_version"]

    assert version() == "v1.0.0"
    assert api.post("/router/switch").json()["live"] == "candidate"
    assert {version() for _ in range(10)} == {"v2.0.0"}
    assert api.post("/router/rollback").json()["live"] == "stable"
    assert {version() for _ in range(10)} == {"v1.0.0"}


def test_recreate_has_one_version_and_refuses_switching(setup):
    api = client(service(setup, log=False))

    assert api.get("/router").json() == {"strategy": "recreate", "slots": {"stable": "v1.0.0"}}
    assert api.post("/router/switch").status_code == 409


def test_a_two_version_strategy_without_a_candidate_says_what_to_set(setup):
    with pytest.raises(PipelineError, match=r"set the served stage's candidate \(serving\.stages\.<stage>"):
        Router("blue-green", setup.model)


def test_ab_splits_keys_between_the_variants_and_keeps_each_key_on_one(setup, candidate):
    router = Router("ab", setup.model, candidate, ab_share=0.5)

    chosen = {
        f"visitor-{number}": router.route(f"visitor-{number}").answer.version for number in range(1_000)
    }

    assert abs(list(chosen.values()).count("v2.0.0") / 1_000 - 0.5) <= 0.05
    assert all(router.route(key).answer.version == version for key, version in list(chosen.items())[:100])
    assert router.state() == {
        "strategy": "ab",
        "slots": {"stable": "v1.0.0", "candidate": "v2.0.0"},
        "ab_share": 0.5,
    }


def test_a_rolling_strategy_with_no_rollout_in_progress_serves_the_primary_alone(setup):
    router = Router("canary", setup.model, None, canary_share=0.5)

    assert {router.route(f"k{number}").answer.version for number in range(50)} == {"v1.0.0"}


def test_only_this_machine_may_steer_the_router(setup, candidate):
    served = service(setup, "blue-green", candidate, log=False)

    refused = client(served, address="192.0.2.7").post("/router/switch")

    assert refused.status_code == 403
    assert refused.json() == {"error": "the router is controlled from the server's own machine"}
    assert client(served).get("/router").json()["live"] == "stable"
    assert client(served, address="::1").post("/router/switch").json()["live"] == "candidate"


def test_serving_a_stage_gto_does_not_know_names_the_stages_and_a_known_one_gets_its_entry(repository):
    commit(repository, {".gto": "stages: [dev, prod]\n"})
    serving = ServingParams(stages={"prod": {"strategy": "canary", "canary_share": 0.2}})

    with pytest.raises(PipelineError, match=r"unknown stage 'qa': the stages are dev, prod"):
        stage_settings(serving, "qa")
    prod = stage_settings(serving, "prod")
    assert (prod.strategy, prod.canary_share) == ("canary", 0.2)
    assert stage_settings(serving, "dev").strategy == "recreate"
