"""The generated PR workflow really runs, with `act`, against a bare origin on disk.

Remote actions are replaced by the composite stand-ins in tests/stand_ins/, and CML's REST
calls go to a recording stand-in for GitHub's API on 127.0.0.1 (tests/act_harness.py). The
project has a directory DVC remote, added as its README says to the default project the flow
tests train. Two runs: the first trains the PR's param change, commits dvc.lock back to the
branch and posts the comment; the second (what the optional token's re-trigger does) finds
everything cached and edits that comment. Both run the pipeline job only: the checks job (lint
and unit tests) runs under act in test_github_flow's first run, on the same code. Then GitHub's
merge queue (`merge_group`): the merged result's dvc.lock is verified before it reaches main,
and a change that skipped training is stopped there, or, pushed to main anyway, by main.yml.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from .act_harness import PR_NUMBER, REPOSITORY, TOKEN, Flow, git, open_flow
from .conftest import copy_project, run
from .test_pipeline import set_params

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def flow(tmp_path_factory, trained_default_project, bake_once) -> Iterator[Flow]:
    """main trained, pushed to origin and a directory DVC remote; a PR branch `tune` (one param changed)."""
    root = tmp_path_factory.mktemp("act")
    storage = root / "dvc-storage"
    project = copy_project(trained_default_project, root / "bake")
    run("make", "setup", cwd=project)
    run("uv", "run", "dvc", "remote", "add", "--default", "storage", str(storage), cwd=project)
    # The same DVC config as a project baked with a directory remote at that path.
    local = bake_once(dvc_remote="local", dvc_remote_url=str(storage))
    assert (project / ".dvc" / "config").read_text() == (local / ".dvc" / "config").read_text()
    run("make", "push", cwd=project)
    with open_flow(root, project) as opened:
        yield opened


@pytest.fixture(scope="module")
def first_run(flow):
    head = flow.pull_request("tune", PR_NUMBER, "first", checks_job=False)
    return head, flow.logs["first"], [comment["body"] for comment in flow.api.comments]


def test_the_pr_comment_shows_verdict_deltas_and_every_section(first_run):
    _, _, bodies = first_run

    assert len(bodies) == 1
    body = bodies[0]
    assert body.splitlines()[0].startswith("✅ **All gates passed**")
    row = r"\| `roc_auc` \| ([\d.]+) \| ([\d.]+) \| ([+-][\d.e-]+) \| (▲ better|▼ worse) \|"
    metrics = re.search(row, body)
    assert metrics, body
    old, new, change = (float(value) for value in metrics.groups()[:3])
    assert change == pytest.approx(new - old, abs=1e-3)
    assert "| `model.hyperparameters.n_estimators` | 200 | 50 |" in body
    for section in ("## Metrics", "## Params", "## Data validation", "## Model tests", "## Drift"):
        assert section in body
    assert "```mermaid" in body
    assert not re.search(r"!\[[^]]*\]\((?!https://)", body)  # no local image for CML to publish
    assert f"/{REPOSITORY}/actions/runs/" in body


def test_the_comment_is_posted_with_the_workflow_token(first_run, flow):
    posts = [request for request in flow.api.requests if request[0] == "POST"]
    assert posts == [("POST", f"/repos/{REPOSITORY}/issues/{PR_NUMBER}/comments", f"token {TOKEN}")]


def test_the_bot_commit_on_the_pr_branch_carries_the_new_dvc_lock(first_run, flow):
    head, _, bodies = first_run

    bot_commit = git("rev-parse", "tune", cwd=flow.origin)
    assert git("rev-parse", f"{bot_commit}^", cwd=flow.origin) == head
    assert git("log", "-1", "--format=%an", bot_commit, cwd=flow.origin) == "github-actions[bot]"
    changed = git("diff", "--name-only", head, bot_commit, cwd=flow.origin).splitlines()
    assert "dvc.lock" in changed
    assert "reports/metrics.json" in changed
    assert "reports/pr_report.md" not in changed
    lock = yaml.safe_load(git("show", f"{bot_commit}:dvc.lock", cwd=flow.origin))
    trained_with = lock["stages"]["train"]["params"]["params.yaml"]["model"]["hyperparameters"]
    assert trained_with["n_estimators"] == 50
    model_md5 = next(out["md5"] for out in lock["stages"]["train"]["outs"] if out["path"].endswith(".skops"))
    assert model_md5 in bodies[0]


def test_the_reports_are_uploaded_as_an_artifact(first_run, flow):
    artifact = flow.env["STAND_IN_ARTIFACTS"]

    assert (Path(artifact) / "reports" / "reports" / "pr_report.md").is_file()
    assert (Path(artifact) / "reports" / "reports" / "metrics.json").is_file()


def test_a_second_run_edits_the_same_comment_and_retrains_nothing(first_run, flow):
    bot_commit = git("rev-parse", "tune", cwd=flow.origin)

    flow.pull_request("tune", PR_NUMBER, "second", checks_job=False)
    log = flow.logs["second"]

    assert len(flow.api.comments) == 1
    assert [request[0] for request in flow.api.requests].count("PATCH") == 1
    assert f"Commit: `{bot_commit[:12]}`" in flow.api.comments[0]["body"]
    assert "ci-commit: dvc.lock and results unchanged: nothing to commit" in log
    assert "Running stage 'train'" not in log
    assert git("rev-parse", "tune", cwd=flow.origin) == bot_commit


STALE = "verify-lock: dvc.lock does not match this commit: run 'make pipeline' and commit dvc.lock"


def test_the_merge_queue_verifies_dvc_lock_on_the_merged_result(first_run, flow):
    log = flow.merge_queue("tune", PR_NUMBER, "queue")

    assert "Success - Main make verify-lock" in log
    assert "verify-lock: dvc.lock matches the code, params and data: nothing would retrain" in log
    assert "Train and report" not in log  # the pipeline job does not run in the queue


def test_the_merge_is_verified_on_a_fresh_clone_of_main_pushed_and_registered(first_run, flow):
    """What main.yml does on GitHub after the merge button: a new runner, only origin and the remote."""
    merge = flow.merge("tune", PR_NUMBER)

    log = flow.push_to_main(merge, "main")

    assert "verify-lock: dvc.lock matches" in log
    assert git("rev-parse", "model@v0.1.0^{commit}", cwd=flow.origin) == merge
    lock = yaml.safe_load(git("show", f"{merge}:dvc.lock", cwd=flow.origin))
    model_md5 = next(out["md5"] for out in lock["stages"]["train"]["outs"] if out["path"].endswith(".skops"))
    storage = flow.root / "dvc-storage"
    assert (storage / "files" / "md5" / model_md5[:2] / model_md5[2:]).is_file()


@pytest.fixture(scope="module")
def untrained_change(flow) -> str:
    """A branch `hotfix` from main that changes a param and was never trained: dvc.lock is stale."""
    author = flow.clone("hotfix-author")
    git("checkout", "--quiet", "-b", "hotfix", "origin/main", cwd=author)
    set_params(author, **{"model.hyperparameters.n_estimators": 60})
    git("commit", "--quiet", "--no-verify", "-am", "More trees, untrained", cwd=author)
    git("push", "--quiet", "origin", "hotfix", cwd=author, env=flow.env)
    return git("rev-parse", "HEAD", cwd=author)


def test_the_merge_queue_stops_a_stale_dvc_lock_and_so_does_main(flow, untrained_change):
    """Queued, the untrained change fails its check; merged anyway (an admin bypassing the
    queue), main.yml fails with the same message and registers nothing."""
    number = PR_NUMBER + 2
    tags_before = git("tag", "--list", "model@*", cwd=flow.origin).split()

    queued = flow.merge_queue("hotfix", number, "queue-stale", succeeds=False)
    merge = flow.merge("hotfix", number)
    pushed = flow.push_to_main(merge, "main-stale", succeeds=False)

    for log in (queued, pushed):
        assert STALE in log
        assert "'train'" in log  # the stage `dvc repro --dry` finds out of date
    assert "Failure - Main make verify-lock" in queued
    assert "Failure - Main No silent retraining (dvc.lock is what the pull request produced)" in pushed
    assert "Register the model if it changed" not in pushed
    assert git("tag", "--list", "model@*", cwd=flow.origin).split() == tags_before
