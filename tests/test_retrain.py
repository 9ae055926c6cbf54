"""Production feedback in a baked project: a shifted labelled batch is caught by the monitor,
retrain.yml (under act) puts it on a retrain/<date> branch with ONE pull request, the pipeline
on that branch retrains and its drift report shows the new data; with
feedback.auto_merge_label set, the pull request gets that label and GitHub is asked to merge it
once its checks pass (`gh pr merge --auto`); a second run changes nothing, and a batch that
fails validation opens nothing and says why.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .act_harness import REPOSITORY, STAND_INS, TOKEN, git, run_act
from .conftest import copy_project, project_env, run
from .github_stand_in import GitHubApi, github_url_rewrite, serve
from .test_pipeline import set_params

pytestmark = pytest.mark.slow

DRIFT_ISSUE = 5
BATCH = "data/incoming/labelled-2026-12-01.csv"
RESULTS_TOKEN = "results-token"
AUTO_MERGE_LABEL = "automerge"
AUTO_MERGE_STEP = "Success - Main Let GitHub merge it once every required check passed"


@dataclass
class Loop:
    root: Path
    project: Path  # the developer's clone, origin = the bare repository
    origin: Path
    api: GitHubApi
    api_url: str
    env: dict[str, str]
    monitor: object
    first_run: str  # retrain.yml's log, with GITHUB_TOKEN only


def act_retrain(loop_root: Path, env: dict[str, str], api_url: str, name: str, *secrets: str) -> str:
    """Run retrain.yml by hand (workflow_dispatch) in a fresh clone of origin; return the log."""
    checkout = loop_root / f"checkout-{name}"
    run(
        "git",
        "clone",
        "--quiet",
        f"https://github.com/{REPOSITORY}.git",
        str(checkout),
        cwd=loop_root,
        env=env,
    )
    payload = {"inputs": {"batch": "", "reason": ""}, "repository": {"full_name": REPOSITORY, "fork": False}}
    workflow = checkout / ".github" / "workflows" / "retrain.yml"
    return run_act(
        loop_root, name, checkout, workflow, "workflow_dispatch", payload, env,
        "-s", f"GITHUB_TOKEN={TOKEN}", *[arg for secret in secrets for arg in ("-s", secret)],
        "--env", f"GITHUB_API_URL={api_url}",
    )  # fmt: skip


@pytest.fixture(scope="module")
def loop(ready_project, tmp_path_factory) -> Iterator[Loop]:
    """main trained, with a shifted labelled batch pending and feedback.auto_merge_label set; the
    monitor run on it; an open drift issue; then retrain.yml run once under act."""
    root = tmp_path_factory.mktemp("retrain")
    project = copy_project(ready_project("classification"), root)
    set_params(project, **{"feedback.auto_merge_label": AUTO_MERGE_LABEL})
    git("add", "--all", cwd=project)
    git("commit", "--quiet", "--no-verify", "-m", "Train the first model", cwd=project)
    run("make", "sample-batches", cwd=project)
    monitor = run("make", "monitor", "CURRENT=data/batches/shifted-labelled.csv", cwd=project, check=False)
    (project / "data" / "incoming").mkdir()
    shutil.copy(project / "data" / "batches" / "shifted-labelled.csv", project / BATCH)
    git("add", BATCH, cwd=project)
    git("commit", "--quiet", "--no-verify", "-m", "Labelled production data arrived", cwd=project)
    origin = root / "origin.git"
    run("git", "clone", "--quiet", "--bare", str(project), str(origin), cwd=root)
    git("remote", "add", "origin", str(origin), cwd=project)
    git("fetch", "--quiet", "origin", cwd=project)

    api = GitHubApi(REPOSITORY)
    api.issues.append({"number": DRIFT_ISSUE, "state": "open", "labels": [{"name": "drift"}]})
    gitconfig = github_url_rewrite(root / "gitconfig", REPOSITORY, origin)
    with serve(api) as api_url:
        env = project_env(GIT_CONFIG_GLOBAL=str(gitconfig), STAND_IN_GITHUB_API=api_url)
        env["PATH"] = os.pathsep.join([str(STAND_INS / "gh"), env["PATH"]])  # as on GitHub's runners
        first = act_retrain(root, env, api_url, "first")
        yield Loop(root, project, origin, api, api_url, env, monitor, first)


def branch_name() -> str:
    return f"retrain/{time.strftime('%Y-%m-%d', time.gmtime())}"


def test_the_monitor_finds_drift_and_a_metric_drop_in_the_labelled_batch(loop):
    issue = (loop.project / "reports" / "monitor" / "issue.md").read_text()

    assert loop.monitor.returncode != 0  # make's status for the monitor's 3
    assert "## Production data drift" in issue
    assert "## Model performance on the labelled batch: dropped" in issue
    assert "| roc_auc |" in issue


def test_retrain_pushes_the_branch_with_the_data_and_opens_one_pull_request(loop):
    branch = branch_name()
    changed = git("diff", "--numstat", "main", branch, cwd=loop.origin).splitlines()
    ledger = git("show", f"{branch}:data/batches.jsonl", cwd=loop.origin).splitlines()

    assert sorted(line.split("\t")[2] for line in changed) == ["data/batches.jsonl", "data/raw/customers.csv"]
    assert [line.split("\t")[:2] for line in changed if line.endswith("customers.csv")] == [["400", "0"]]
    assert [json.loads(line)["source"] for line in ledger] == [BATCH]
    [pull] = loop.api.pull_requests
    assert pull["title"] == f"Retrain on data through {branch.removeprefix('retrain/')}"
    assert pull["head"]["ref"] == branch
    assert pull["base"]["ref"] == "main"
    assert f"- Drift issue: #{DRIFT_ISSUE}" in pull["body"]
    assert "data/incoming/labelled-2026-12-01.csv" in pull["body"].replace("\\", "")
    assert [label["name"] for label in pull["labels"]] == ["retrain", AUTO_MERGE_LABEL]
    assert "No RESULTS_TOKEN secret" in loop.first_run
    assert {auth for method, path, auth in loop.api.requests if "/pulls" in path} == {f"Bearer {TOKEN}"}


def test_with_an_auto_merge_label_github_is_asked_to_merge_the_pull_request_once_checks_pass(loop):
    [pull] = loop.api.pull_requests
    graphql = [auth for method, path, auth in loop.api.requests if path == "/graphql"]

    assert AUTO_MERGE_STEP in loop.first_run
    assert loop.api.auto_merges[0] == {"number": pull["number"], "merge_method": "MERGE"}
    assert graphql[:2] == [f"token {TOKEN}"] * 2  # gh's look-up of the pull request, then the mutation


def test_a_second_run_on_the_same_data_changes_nothing(loop):
    branch = branch_name()
    head = git("rev-parse", branch, cwd=loop.origin)
    before = len(loop.api.requests)

    log = act_retrain(loop.root, loop.env, loop.api_url, "second", f"RESULTS_TOKEN={RESULTS_TOKEN}")

    later = loop.api.requests[before:]
    rest = [(method, auth) for method, path, auth in later if path != "/graphql"]
    assert "already has these batches: nothing to do" in log
    assert "No RESULTS_TOKEN secret" not in log
    assert git("rev-parse", branch, cwd=loop.origin) == head
    assert len(loop.api.pull_requests) == 1
    assert rest == [("GET", f"Bearer {RESULTS_TOKEN}")] * 2  # the drift issue, the open pull requests
    assert {auth for _, path, auth in later if path == "/graphql"} == {f"token {RESULTS_TOKEN}"}
    assert AUTO_MERGE_STEP in log  # asked again, for the same pull request: GitHub keeps one request
    [pull] = loop.api.pull_requests
    assert loop.api.auto_merges == [{"number": pull["number"], "merge_method": "MERGE"}] * 2


def test_the_pipeline_on_the_branch_retrains_and_reports_the_drift(loop):
    project = loop.project
    git("fetch", "--quiet", "origin", cwd=project)
    git("checkout", "--quiet", "-B", "retrain-local", f"origin/{branch_name()}", cwd=project)

    trained = run("make", "pipeline", "drift-reference", "drift", "report", cwd=project)

    assert "Running stage 'train'" in trained.stdout
    drift = json.loads((project / "reports" / "drift" / "drift.json").read_text())
    assert drift["status"] == "compared"
    assert "tenure_months" in drift["drifted_columns"]
    report = (project / "reports" / "pr_report.md").read_text()
    assert "roc_auc" in report
    git("checkout", "--quiet", "--force", "main", cwd=project)


def test_a_batch_that_fails_validation_opens_nothing_and_says_why(loop):
    project = loop.project
    git("checkout", "--quiet", "--force", "main", cwd=project)
    bad = (project / BATCH).read_text().splitlines()
    header = bad[0].split(",")
    tenure = header.index("tenure_months")
    rows = [line.split(",") for line in bad[1:4]]
    for row in rows:
        row[tenure] = "-5"
    (project / "data" / "incoming" / "bad.csv").write_text("\n".join([bad[0], *map(",".join, rows)]) + "\n")
    heads = git("for-each-ref", "refs/heads", cwd=loop.origin)
    before = len(loop.api.requests)
    env = {**loop.env, "GITHUB_API_URL": loop.api_url, "GITHUB_REPOSITORY": REPOSITORY, "GITHUB_TOKEN": TOKEN}

    result = run("make", "retrain", cwd=project, env=env, check=False)

    assert result.returncode != 0
    assert "tenure_months: min (expected ≥ 0)" in result.stderr
    assert "No branch was pushed and no pull request opened." in result.stderr
    assert git("for-each-ref", "refs/heads", cwd=loop.origin) == heads
    assert [m for m, path, _ in loop.api.requests[before:] if m != "GET"] == []
    assert len(loop.api.pull_requests) == 1
    assert git("status", "--porcelain", "--", "data/raw", "data/batches.jsonl", cwd=project) == ""
    assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=project) == "main"
