"""The first commit pins every library in uv.lock, and CI installs exactly that lock."""

from __future__ import annotations

import sys

import pytest

from .conftest import copy_project, project_env, run

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "answers", [{}, {"dvc_remote": "s3", "python_version": "3.12"}], ids=["defaults", "s3-py312"]
)
def test_the_first_commit_holds_a_lock_that_ci_installs(bake_once, answers):
    project = bake_once(**answers)

    committed = run("git", "ls-files", "uv.lock", cwd=project).stdout.split()
    check = run("uv", "lock", "--check", cwd=project, check=False)

    assert committed == ["uv.lock"]
    assert check.returncode == 0, check.stderr
    if answers.get("dvc_remote") == "s3":
        assert 'name = "dvc-s3"' in (project / "uv.lock").read_text()


def test_on_ci_a_pyproject_change_without_its_lock_fails_with_uvs_message(bake_once, tmp_path):
    project = tmp_path / "project"
    run("git", "clone", "--quiet", str(bake_once()), str(project), cwd=tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('"pyyaml>=6,<7",', '"pyyaml>=6,<7",\n    "tabulate>=0.9",')
    )

    result = run("make", "setup", cwd=project, check=False, env=project_env(CI="true"))

    assert result.returncode != 0
    assert "--locked" in result.stderr
    assert "uv.lock" in result.stderr


# A lock cut short mid-hash: valid YAML, but not a lock DVC accepts.
CUT_LOCK = (
    "schema: '2.0'\nstages:\n  ingest:\n    cmd: python -m x\n    deps:\n    - path: data/raw\n      md5: 1f"
)


@pytest.mark.parametrize("lock", ["", CUT_LOCK], ids=["empty", "cut"])
def test_make_pipeline_refuses_a_broken_dvc_lock_with_the_restore_command(bake_once, tmp_path, lock):
    project = copy_project(bake_once(), tmp_path)
    (project / "dvc.lock").write_text(lock)

    # The check needs only Python with DVC: this environment's, instead of a synced project.
    result = run("make", "pipeline", f"RUN={sys.executable}", cwd=project, check=False)

    assert result.returncode != 0
    assert "dvc.lock is empty or cut short" in result.stderr
    assert "git restore dvc.lock" in result.stderr
