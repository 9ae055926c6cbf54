"""Registry rules: version numbers, the bump a pull request asks for, what each stage held."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.config import ServingParams
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.registry.policy import gate_stage
from {{ cookiecutter.package_name }}.registry.versions import (
    MODEL_TESTS_REPORT,
    ROLLBACK,
    Event,
    check_model_tests,
    chosen_bump,
    known_serving,
    next_version,
    stage_lineage,
)

from ..conftest import commit

START = datetime.fromisoformat("2026-01-01T00:00:00+00:00")


@pytest.mark.parametrize(
    ("latest", "bump", "expected"),
    [
        (None, "minor", "v0.1.0"),
        (None, "major", "v1.0.0"),
        (None, "patch", "v0.0.1"),
        ("v0.1.0", "minor", "v0.2.0"),
        ("v1.9.3", "minor", "v1.10.0"),
        ("v1.2.3", "patch", "v1.2.4"),
        ("v1.2.3", "major", "v2.0.0"),
    ],
)
def test_the_next_version_bumps_the_latest(latest, bump, expected):
    assert next_version(latest, bump) == expected


@pytest.mark.parametrize("malformed", ["1.0.0", "v1.0", "v01.0.0", "model@v1.0.0"])
def test_a_malformed_version_is_refused(malformed):
    with pytest.raises(PipelineError, match=f"'{malformed}' is not a version: expected vMAJOR.MINOR.PATCH"):
        next_version(malformed, "minor")


@pytest.mark.parametrize(
    ("explicit", "labels", "expected"),
    [
        (None, "", "minor"),
        (None, "documentation, model:patch", "patch"),
        (None, "model:major\nbug", "major"),
        (None, "model:minor,model:minor", "minor"),
        ("patch", "model:major", "patch"),
    ],
)
def test_the_bump_comes_from_the_option_then_a_label_then_minor(explicit, labels, expected):
    assert chosen_bump(explicit, labels) == expected


def test_conflicting_bump_labels_are_refused():
    with pytest.raises(PipelineError, match="conflicting labels model:major, model:patch: keep one"):
        chosen_bump(None, "model:patch, model:major")


def test_an_unknown_bump_is_refused():
    with pytest.raises(PipelineError, match="bump 'huge' is not one of: major, minor, patch"):
        chosen_bump("huge", "")


def assignment(counter: int, version: str, stage: str, message: str = "Promote") -> Event:
    return Event(
        kind="assignment",
        version=version,
        stage=stage,
        commit="0" * 40,
        tag=f"model#{stage}#{counter}",
        message=message,
        timestamp=START + timedelta(seconds=counter),
    )


def test_a_stage_lineage_follows_promotions_and_pops_rollbacks():
    events = [
        assignment(1, "v0.1.0", "prod"),
        assignment(2, "v0.2.0", "staging"),
        assignment(3, "v0.2.0", "prod"),
        assignment(4, "v0.3.0", "prod"),
        assignment(5, "v0.2.0", "prod", f"{ROLLBACK} prod from v0.3.0 to v0.2.0"),
    ]

    assert stage_lineage(events, "prod") == ["v0.1.0", "v0.2.0"]
    assert stage_lineage(events, "staging") == ["v0.2.0"]
    assert stage_lineage(events, "dev") == []


@pytest.mark.parametrize(
    ("stages", "stage", "gate"),
    [
        (["dev", "staging", "prod"], "prod", "staging"),
        (["dev", "staging", "prod"], "staging", None),
        (["dev", "production"], "production", "dev"),
        (["prod"], "prod", None),
    ],
)
def test_only_the_last_stage_requires_the_one_before(stages, stage, gate):
    assert gate_stage(stages, stage) == gate


def test_the_registry_command_refuses_a_missing_action(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["registry"])

    assert exit_info.value.code == 2
    assert "the following arguments are required: action" in capsys.readouterr().err


MODEL_MD5, DATA_MD5 = "ab" * 16, "cd" * 16
COMPUTED_FOR = {"model": {"md5": MODEL_MD5}, "data": {"md5": DATA_MD5}}
LOCK = (
    "stages:\n  split:\n    outs:\n    - path: data/processed/test.csv\n      md5: " + DATA_MD5 + "\n"
    "  train:\n    outs:\n    - path: models/model.skops\n      md5: " + MODEL_MD5 + "\n"
)
RESULTS = {
    "dvc.lock": LOCK,
    "reports/metrics_provenance.json": json.dumps({"computed_for": COMPUTED_FOR}),
}


def test_a_version_whose_committed_model_tests_passed_may_be_promoted(repository, capsys):
    report = json.dumps({"passed": True, "computed_for": COMPUTED_FOR})
    version_commit = commit(repository, {**RESULTS, MODEL_TESTS_REPORT: report})

    check_model_tests("v0.1.0", version_commit)

    assert "model tests passed for v0.1.0" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {MODEL_TESTS_REPORT: json.dumps({"passed": False, "computed_for": COMPUTED_FOR})},
            "the model tests failed for v0.1.0",
        ),
        ({MODEL_TESTS_REPORT: json.dumps({"passed": True})}, "describes another model than v0.1.0's"),
        ({MODEL_TESTS_REPORT: "[]"}, "is not a model test report"),
        ({"README.md": "no report"}, "v0.1.0 has no model test results"),
    ],
    ids=["failed", "unnamed model", "unreadable", "missing"],
)
def test_a_version_without_passing_model_tests_is_refused(repository, files, message):
    version_commit = commit(repository, {**RESULTS, **files})

    with pytest.raises(PipelineError, match=message):
        check_model_tests("v0.1.0", version_commit)


@pytest.mark.parametrize(
    ("stages", "message"),
    [
        ({"prdo": {"strategy": "canary"}}, r"serving\.stages\.prdo: no such stage: the stages are dev, prod"),
        ({"prod": {"strategy": "ab", "candidate": "stagin"}}, r"stages\.prod\.candidate: no stage 'stagin'"),
    ],
    ids=["stage", "candidate"],
)
def test_a_serving_section_naming_a_stage_gto_does_not_know_is_refused(repository, stages, message):
    (repository / ".gto").write_text("stages: [dev, prod]\n")
    commit(repository, {"README.md": "a project"})

    with pytest.raises(PipelineError, match=message):
        known_serving(ServingParams(stages=stages))
    assert known_serving(ServingParams(stages={"local": {"strategy": "shadow", "candidate": "prod"}}))
