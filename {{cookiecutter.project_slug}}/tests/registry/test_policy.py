"""The promotion policy: every rule a stage assignment can break, and which an override may let pass."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta

import pytest

from {{ cookiecutter.package_name }}.registry.policy import (
    Event,
    Results,
    override_reason,
    rollout_state,
    rollout_violations,
    violations,
)

START = datetime.fromisoformat("2026-01-01T00:00:00+00:00")
STAGES = ["dev", "staging", "prod"]
COMMIT = "a" * 40
MODEL, DATA = "1" * 32, "2" * 32
FOR_THIS_MODEL = {"model": {"path": "models/model.skops", "md5": MODEL}, "data": {"md5": DATA}}


def event(counter: int, kind: str, version: str, stage: str | None = None, commit: str = COMMIT) -> Event:
    tag = f"model#{stage}#{counter}" if stage else f"model@{version}"
    return Event(kind, version, stage, commit, tag, "", START + timedelta(seconds=counter))


def results(
    passed: object = True, tested_for: object = FOR_THIS_MODEL, metrics_for: object = FOR_THIS_MODEL
) -> Results:
    return Results(
        model_path="models/model.skops",
        model_md5=MODEL,
        data_path="data/processed/test.csv",
        data_md5=DATA,
        model_tests_path="reports/model_tests.json",
        model_tests=json.dumps({"passed": passed, "computed_for": tested_for}),
        metrics_path="reports/metrics.json",
        metrics_provenance_path="reports/metrics_provenance.json",
        metrics_provenance=json.dumps({"computed_for": metrics_for}),
    )


REGISTERED = [event(0, "registration", "v0.1.0")]


def test_a_registered_tested_version_going_to_staging_keeps_the_policy():
    assert violations(REGISTERED, STAGES, "v0.1.0", "staging", COMMIT, results()) == []


def test_prod_takes_a_version_that_was_in_staging():
    history = [*REGISTERED, event(1, "assignment", "v0.1.0", "staging")]

    assert violations(history, STAGES, "v0.1.0", "prod", COMMIT, results()) == []


def test_prod_refuses_a_version_never_in_staging():
    (found,) = violations(REGISTERED, STAGES, "v0.1.0", "prod", COMMIT, results())

    assert (found.rule, found.overridable) == ("stage order", True)
    assert found.reason == "v0.1.0 has never been in staging: promote it to staging first"


@pytest.mark.parametrize(
    ("version", "commit", "message"),
    [
        ("b" * 40, "b" * 40, "is not a registered version of this repository"),
        ("v0.9.0", COMMIT, "'v0.9.0' (commit aaaaaaa) is not a registered version"),
        ("v0.1.0", "c" * 40, "v0.1.0 is registered at commit aaaaaaa, not at ccccccc"),
    ],
    ids=["bare commit", "unknown version", "other commit"],
)
def test_an_unregistered_version_is_refused_and_cannot_be_overridden(version, commit, message):
    (found,) = violations(REGISTERED, STAGES, version, "dev", commit, results())

    assert found.rule == "registered"
    assert not found.overridable
    assert message in found.reason


def test_failed_model_tests_are_refused():
    (found,) = violations(REGISTERED, STAGES, "v0.1.0", "staging", COMMIT, results(passed=False))

    assert found.reason == "the model tests failed for v0.1.0 (reports/model_tests.json at aaaaaaa)"


@pytest.mark.parametrize(
    "tested_for",
    [
        None,
        {"model": {"md5": "9" * 32}, "data": {"md5": DATA}},
        {"model": {"md5": MODEL}, "data": {"md5": "9" * 32}},
    ],
    ids=["unnamed", "other model", "other data"],
)
def test_model_tests_computed_for_another_model_are_refused_with_the_command_that_refreshes_them(tested_for):
    (found,) = violations(REGISTERED, STAGES, "v0.1.0", "staging", COMMIT, results(tested_for=tested_for))

    assert found.rule == "model tests"
    assert "describes another model than v0.1.0's" in found.reason
    assert found.reason.endswith("run `make test-model` on that commit and commit reports/model_tests.json")


def test_metrics_computed_for_another_model_are_refused():
    stale = {"model": {"md5": "9" * 32}, "data": {"md5": DATA}}
    (found,) = violations(REGISTERED, STAGES, "v0.1.0", "staging", COMMIT, results(metrics_for=stale))

    assert found.rule == "metrics"
    assert f"its model md5 is {'9' * 32}, dvc.lock records {MODEL}" in found.reason
    assert "run `make pipeline` on that commit" in found.reason


def test_missing_model_tests_are_refused():
    missing = Results(**{**results().__dict__, "model_tests": None})

    (found,) = violations(REGISTERED, STAGES, "v0.1.0", "staging", COMMIT, missing)

    assert "v0.1.0 has no model test results" in found.reason


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (
            "Promote v0.2.0 to prod\n\noverride: incident 12, staging is down\n",
            "incident 12, staging is down",
        ),
        ("override:   hotfix  ", "hotfix"),
        ("Promote v0.2.0 to prod (override: not at line start)", None),
        ("override:", None),
        ("", None),
    ],
)
def test_the_override_is_a_line_of_the_tag_message_with_a_reason(message, reason):
    assert override_reason(message) == reason


def assigned(counter: int, version: str, message: str) -> Event:
    return dataclasses.replace(event(counter, "assignment", version, "prod"), message=message)


def test_a_promotion_rolls_out_until_finished_or_rolled_back():
    promoted = [
        assigned(1, "v0.1.0", "Promote v0.1.0 to prod"),
        assigned(2, "v0.2.0", "Promote v0.2.0 to prod"),
    ]
    rolling = rollout_state(promoted, "prod")
    finished = rollout_state([*promoted, assigned(3, "v0.2.0", "Finish rollout of v0.2.0")], "prod")
    rolled_back = rollout_state([*promoted, assigned(3, "v0.1.0", "Roll back prod")], "prod")

    assert (rolling.primary.version, rolling.candidate.version) == ("v0.1.0", "v0.2.0")
    assert (finished.primary.version, finished.candidate) == ("v0.2.0", None)
    assert (rolled_back.primary.version, rolled_back.candidate) == ("v0.1.0", None)
    assert rollout_state(promoted[:1], "prod").candidate is None
    assert rollout_state(promoted, "staging") is None


@pytest.mark.parametrize(
    ("report", "reason"),
    [
        (None, "no rollout report at r.json"),
        ("{", "r.json is not a rollout report"),
        (("v0.1.0", "v0.3.0", "pass"), "compares v0.3.0 with v0.1.0, not v0.2.0"),
        (("v0.1.0", "v0.2.0", "fail"), "the rollout report of v0.2.0 failed (error rate)"),
    ],
)
def test_finishing_a_rollout_needs_a_passing_report_of_its_two_versions(report, reason):
    rolling = rollout_state(
        [assigned(1, "v0.1.0", "Promote v0.1.0"), assigned(2, "v0.2.0", "Promote v0.2.0")], "prod"
    )
    if isinstance(report, tuple):
        primary, candidate, verdict = report
        checks = [{"name": "error rate", "passed": False}, {"name": "requests", "passed": True}]
        versions = {"primary": {"version": primary}, "candidate": {"version": candidate}}
        report = json.dumps({**versions, "verdict": verdict, "checks": checks})

    [found] = rollout_violations(report, "r.json", rolling)

    assert reason in found.reason
    assert found.overridable


def test_a_passing_report_of_the_two_versions_lets_the_rollout_finish():
    rolling = rollout_state(
        [assigned(1, "v0.1.0", "Promote v0.1.0"), assigned(2, "v0.2.0", "Promote v0.2.0")], "prod"
    )
    report = {"primary": {"version": "v0.1.0"}, "candidate": {"version": "v0.2.0"}, "verdict": "pass"}

    assert rollout_violations(json.dumps(report), "r.json", rolling) == []
