"""Two pull requests from one base both train: the second is told it is stale and updated with one command."""

from __future__ import annotations

import pytest
import yaml

from .conftest import copy_project, run
from .test_pipeline import set_params

pytestmark = pytest.mark.slow


def git(*arguments: str, cwd) -> str:
    return run("git", *arguments, cwd=cwd).stdout.strip()


def trained_with(project, revision: str) -> tuple[int, float]:
    """The trees and the test share that dvc.lock at a revision says the model was made with."""
    stages = yaml.safe_load(git("show", f"{revision}:dvc.lock", cwd=project))["stages"]
    model = stages["train"]["params"]["params.yaml"]["model"]
    return model["hyperparameters"]["n_estimators"], stages["split"]["params"]["params.yaml"]["split"][
        "test_size"
    ]


def train_on_branch(project, branch: str, **changes: object) -> None:
    git("checkout", "--quiet", "-b", branch, "main", cwd=project)
    set_params(project, **changes)
    run("make", "pipeline", cwd=project)
    git("add", "--all", cwd=project)
    git("commit", "--quiet", "--no-verify", "-m", f"Train {branch}", cwd=project)


def test_a_stale_branch_is_told_and_updated_with_make_update_branch(ready_project, tmp_path):
    project = copy_project(ready_project("classification"), tmp_path)
    set_params(project)  # params.yaml as set_params writes it, so each branch changes one line
    git("add", "--all", cwd=project)
    git("commit", "--quiet", "--no-verify", "-m", "Train the first model", cwd=project)
    train_on_branch(project, "fewer-trees", **{"model.hyperparameters.n_estimators": 50})
    train_on_branch(project, "larger-test-set", **{"split.test_size": 0.25})
    git("checkout", "--quiet", "main", cwd=project)
    git("merge", "--quiet", "--no-ff", "--no-edit", "fewer-trees", cwd=project)
    git("checkout", "--quiet", "larger-test-set", cwd=project)

    report = run("make", "report", cwd=project)
    comment = (project / "reports" / "pr_report.md").read_text()
    assert report.returncode == 0
    assert "⚠️ **`dvc.lock` is stale against `main`**" in comment
    assert "make update-branch BASE=main" in comment

    update = run("make", "update-branch", "BASE=main", cwd=project)

    assert "update-branch: took main's copy of dvc.lock" in update.stdout
    assert trained_with(project, "HEAD") == (50, 0.25)
    assert git("status", "--porcelain", "--untracked-files=no", cwd=project) == ""
    run("make", "report", cwd=project)
    assert "is stale" not in (project / "reports" / "pr_report.md").read_text()
    git("checkout", "--quiet", "main", cwd=project)
    git("merge", "--quiet", "--no-ff", "--no-edit", "larger-test-set", cwd=project)
    verified = run("make", "verify-lock", cwd=project)
    assert "verify-lock: dvc.lock matches" in verified.stdout


def test_update_branch_refuses_a_dirty_working_tree(ready_project, tmp_path):
    project = copy_project(ready_project("regression"), tmp_path)
    (project / "params.yaml").write_text((project / "params.yaml").read_text() + "\n# edited\n")

    result = run("make", "update-branch", cwd=project, check=False)

    assert result.returncode != 0
    assert "update-branch: error: the working tree has uncommitted changes" in result.stderr
