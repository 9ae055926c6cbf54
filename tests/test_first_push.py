"""A project pushed as it was generated is green on GitHub: the checks its workflows run on day one."""

from __future__ import annotations

import pytest

from .conftest import copy_project, project_env, run
from .test_pipeline import set_params


def test_verify_lock_passes_before_the_first_model_and_says_why(bake_once):
    result = run("make", "verify-lock", cwd=bake_once())

    assert result.stdout.strip() == (
        "verify-lock: no dvc.lock yet: no model has been trained on this branch, nothing to verify"
    )


@pytest.mark.slow
def test_verify_lock_fails_when_dvc_lock_does_not_match_the_params(ready_project, tmp_path):
    project = copy_project(ready_project("regression"), tmp_path)
    set_params(project, **{"model.hyperparameters.n_estimators": 20})

    result = run("make", "verify-lock", cwd=project, check=False)

    assert result.returncode != 0
    assert "verify-lock: dvc.lock does not match this commit: run 'make pipeline' and commit dvc.lock" in (
        result.stderr
    )


def test_the_monitor_says_what_to_configure_instead_of_failing(bake_once, tmp_path):
    summary = tmp_path / "summary.md"

    result = run(
        "make", "monitor-not-configured", cwd=bake_once(), env=project_env(GITHUB_STEP_SUMMARY=str(summary))
    )

    assert result.stdout.startswith("::notice title=Monitor not configured::No production batch to check yet")
    assert "PRODUCTION_BATCH" in result.stdout
    assert summary.read_text().startswith("## Monitor not configured\n\nNo production batch to check yet")
