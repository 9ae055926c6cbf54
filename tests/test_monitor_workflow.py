"""monitor.yml as GitHub runs it, under `act`: one drift issue, updated, with the date drift began.

From a trained default project on a bare origin (tests/act_harness.py), each run is a fresh
clone dispatched by hand with a batch, and GitHub's REST API is the recording stand-in
(tests/github_stand_in.py). The batches are the project's own `make sample-batches`: the
held-out test split (stable) and the same rows shifted. Five runs, in order: no batch
configured, the stable batch, the shifted batch, the shifted batch again, and a batch the
monitor cannot read (a column renamed). The project has no DVC remote: the first run rebuilds
the model, the later ones check it out of the DVC cache the first one left (tests/stand_ins/cache).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from .act_harness import REPOSITORY, Flow, open_flow
from .conftest import copy_project, run

pytestmark = pytest.mark.slow

SINCE = re.compile(r"- Drifting since: (\S+)")


@pytest.fixture(scope="module")
def flow(tmp_path_factory, trained_default_project) -> Iterator[Flow]:
    """The trained default project on origin; its sample batches kept outside it, for the runs."""
    root = tmp_path_factory.mktemp("monitor-flow")
    project = copy_project(trained_default_project, root / "bake")
    run("make", "sample-batches", cwd=project)
    shutil.copytree(project / "data" / "batches", root / "batches")
    with open_flow(root, project) as opened:
        yield opened


def dispatch(flow: Flow, name: str, current: str = "", *, succeeds: bool = True) -> str:
    """monitor.yml run by hand (workflow_dispatch) on a fresh clone of main; its log."""
    checkout = flow.clone(f"{name}-checkout")
    workflow = checkout / ".github" / "workflows" / "monitor.yml"
    payload = {"ref": "refs/heads/main", "inputs": {"current": current}}
    return flow.act(checkout, workflow, "workflow_dispatch", payload, name, succeeds=succeeds)


def issue_calls(flow: Flow) -> list[str]:
    """The calls that create or change issues and labels, in order."""
    return [
        f"{method} {path.split('?')[0]}"
        for method, path, _ in flow.api.requests
        if method in {"POST", "PATCH"} and re.search(r"/(issues|labels)\b", path)
    ]


@pytest.fixture(scope="module")
def batches(flow) -> Path:
    return flow.root / "batches"


@pytest.fixture(scope="module")
def not_configured(flow) -> str:
    return dispatch(flow, "not-configured")


@pytest.fixture(scope="module")
def stable(flow, batches, not_configured) -> str:
    return dispatch(flow, "stable", str(batches / "stable.csv"))


@pytest.fixture(scope="module")
def first_drift(flow, batches, stable) -> dict:
    """The shifted batch: the run's log and the issue as it stood after it."""
    log = dispatch(flow, "shifted", str(batches / "shifted.csv"))
    return {"log": log, "issues": [dict(issue) for issue in flow.api.issues], "calls": issue_calls(flow)}


@pytest.fixture(scope="module")
def second_drift(flow, batches, first_drift) -> str:
    return dispatch(flow, "shifted-again", str(batches / "shifted.csv"))


@pytest.fixture(scope="module")
def unreadable(flow, batches, second_drift) -> dict:
    """A batch whose column was renamed: the monitor fails before writing any report."""
    stable = (batches / "stable.csv").read_text()
    header, rest = stable.split("\n", 1)
    renamed = batches / "renamed.csv"
    renamed.write_text(header.replace("tenure_months", "tenure") + "\n" + rest)
    calls = issue_calls(flow)
    log = dispatch(flow, "unreadable", str(renamed), succeeds=False)
    return {"log": log, "calls_before": calls}


def test_without_a_batch_the_run_is_green_and_says_what_to_set(flow, not_configured):
    assert "::notice title=Monitor not configured::No production batch to check yet" in not_configured
    assert "PRODUCTION_BATCH" in not_configured
    assert "make monitor\n" not in not_configured  # the drift job was skipped
    assert issue_calls(flow) == []


def test_the_stable_batch_opens_no_issue(flow, stable):
    assert "monitor: ✅ no drift" in stable
    assert "drift-issue: none is open" in stable
    assert issue_calls(flow) == []
    assert flow.api.issues == []


def test_a_later_run_checks_the_served_model_out_of_the_cache_instead_of_retraining(stable, first_drift):
    assert "Running stage 'train'" in stable
    assert "cache stand-in: saved monitor-dvc-cache-" in stable
    log = first_drift["log"]
    assert "cache stand-in: restored monitor-dvc-cache-" in log
    assert "Stage 'train' is cached - skipping run, checking out outputs" in log
    assert "Running stage" not in log


def test_the_shifted_batch_opens_one_drift_issue_that_links_the_run(flow, first_drift):
    assert "monitor: ⚠️ drift in" in first_drift["log"]
    [issue] = first_drift["issues"]
    assert [label["name"] for label in issue["labels"]] == ["drift"]
    assert issue["body"].startswith("## Production data drift")
    assert re.search(rf"\(https://github\.com/{REPOSITORY}/actions/runs/\d+\)", issue["body"])
    assert "reports/monitor/drift.html" not in issue["body"]  # no path that resolves nowhere
    assert first_drift["calls"] == [f"POST /repos/{REPOSITORY}/labels", f"POST /repos/{REPOSITORY}/issues"]
    assert list((flow.api.artifacts_dir / "drift-report").rglob("monitor/drift.html"))  # what the link finds


def test_a_second_drift_updates_the_same_issue_and_keeps_the_date_it_began(flow, first_drift, second_drift):
    [opened] = first_drift["issues"]
    [issue] = flow.api.issues
    number = opened["number"]

    assert issue["number"] == number
    assert f"drift-issue: #{number} is open: its date of first drift carries over" in second_drift
    assert f"drift-issue: updated #{number}" in second_drift
    assert issue_calls(flow)[len(first_drift["calls"]) :] == [f"PATCH /repos/{REPOSITORY}/issues/{number}"]
    assert SINCE.search(issue["body"])[1] == SINCE.search(opened["body"])[1]
    assert issue["body"] != opened["body"]  # checked again, at a later time


def test_a_monitor_that_fails_on_its_own_fails_the_run_and_touches_no_issue(flow, unreadable):
    log = unreadable["log"]

    assert "lacks columns the model needs: tenure_months" in log
    assert "Failure - Main Fail when the monitor itself failed" in log
    assert "make monitor failed without writing a drift report" in log
    assert "Main Open or update the drift issue" not in log
    assert issue_calls(flow) == unreadable["calls_before"]
