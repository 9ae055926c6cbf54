import json

import pytest

from {{ cookiecutter.package_name }}.serving.rollout_report import compare, markdown, versions_from_log

from .helpers import records, trained


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    return trained("classification", tmp_path_factory.mktemp("rollout"))


def entries(setup, version, role, predictions, start=0, error=None, latency=2.0):
    """One logged single-row request per prediction, cycling over the synthetic frame's first rows,
    so that every version's traffic has the same inputs."""
    rows = records(setup.frame, 20)
    logged = []
    for number, prediction in enumerate(predictions, start):
        entry = {
            "request_id": f"r{number}",
            "model_version": version,
            "role": role,
            "inputs": [rows[number % len(rows)]],
            "outputs": {} if error else {"predictions": [prediction]},
            "latency_ms": latency,
        }
        logged.append(entry | ({"error": error} if error else {}))
    return logged


def failed(report):
    return [check["name"] for check in report["checks"] if not check["passed"]]


def test_a_candidate_like_its_primary_passes(setup):
    log = entries(setup, "v1", "stable", ["high", "low"] * 60) + entries(
        setup, "v2", "candidate", ["high", "low"] * 30, start=120
    )

    report = compare(setup.params, log, "v1", "v2")

    assert report["verdict"] == "pass", report["checks"]
    assert (report["primary"]["requests"], report["candidate"]["requests"]) == (120, 60)
    assert report["compared_on"] == "each version's own traffic (class shares)"
    assert set(report["input_drift"]) == {"size", "count", "colour"}  # row_id is sensitive
    assert "**Verdict: pass**" in markdown(report)


def test_a_candidate_that_disagrees_fails_and_says_on_what(setup):
    log = entries(setup, "v1", "stable", ["high", "low"] * 60) + entries(
        setup, "v2", "candidate", ["high"] * 60, start=120
    )

    report = compare(setup.params, log, "v1", "v2")

    assert (report["verdict"], failed(report)) == ("fail", ["agreement"])
    assert "| agreement | 0.5 | ≥ 0.9 | **no** |" in markdown(report)


def test_a_shadow_is_compared_row_by_row_on_the_same_requests(setup):
    primary = ["high", "low"] * 50
    shadow = ["low" if number < 20 else label for number, label in enumerate(primary)]
    log = entries(setup, "v1", "stable", primary) + entries(setup, "v2", "shadow", shadow)

    report = compare(setup.params, log, "v1", "v2")
    [agreement] = [check for check in report["checks"] if check["name"] == "agreement"]

    assert report["compared_on"] == "the same 100 rows"
    assert agreement["value"] == pytest.approx(0.9)  # 10 of the first 20 differ
    assert report["input_drift"]["size"] == 0.0


def test_failures_slowness_and_too_little_traffic_each_fail_their_check(setup):
    log = (
        entries(setup, "v1", "stable", ["high", "low"] * 60)
        + entries(setup, "v2", "candidate", ["high", "low"] * 10, start=120, latency=9.0)
        + entries(setup, "v2", "candidate", ["high"] * 2, start=140, error="v2 failed: boom")
    )

    report = compare(setup.params, log, "v1", "v2")

    assert failed(report) == ["requests", "error rate", "p99 latency ratio"]
    assert report["candidate"]["errors"] == 2
    assert json.loads(json.dumps(report)) == report  # written as rollout.json as it is


def test_without_a_stage_the_log_names_the_versions(setup):
    log = entries(setup, "v1", "stable", ["high"]) + entries(setup, "v3", "candidate", ["low"], start=1)

    assert versions_from_log(log) == ("v1", "v3")


def test_inputs_unlike_the_primarys_fail_the_drift_check(setup):
    log = entries(setup, "v1", "stable", ["high", "low"] * 60) + entries(
        setup, "v2", "candidate", ["high", "low"] * 30, start=120
    )
    for entry in log[120:]:
        entry["inputs"] = [{**row, "count": row["count"] + 20} for row in entry["inputs"]]

    report = compare(setup.params, log, "v1", "v2")

    assert failed(report) == ["input drift beyond noise"]
    assert next(iter(report["input_drift"].items())) == ("count", 1.0)
    assert 0 < report["input_drift_noise"] < 0.3
