"""The post-generation hook finishes the repository, and explains what it could not do."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from .conftest import TEMPLATE_DIR, bake, project_env, run

GIT_IDENTITY = ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL")


def test_without_a_git_identity_the_first_commit_uses_the_templates_author(tmp_path, monkeypatch, capfd):
    for key in GIT_IDENTITY:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")

    project = bake(tmp_path / "out", author_name="Ada Lovelace", author_email="ada@example.com")

    author = subprocess.run(
        ["git", "log", "--format=%an <%ae>"], cwd=project, capture_output=True, text=True, check=True
    )
    assert author.stdout.strip() == "Ada Lovelace <ada@example.com>"
    assert "git has no user identity here" in capfd.readouterr().out


@pytest.mark.slow
def test_without_dvc_the_project_is_still_made_and_setup_initialises_dvc(tmp_path):
    bare_env = {**project_env(), "VIRTUAL_ENV": ""}
    venv = tmp_path / "cookiecutter-only"
    run("uv", "venv", "--quiet", str(venv), cwd=tmp_path, env=bare_env)
    run(
        "uv",
        "pip",
        "install",
        "--quiet",
        "--python",
        str(venv / "bin" / "python"),
        "cookiecutter>=2.7,<3",
        cwd=tmp_path,
        env=bare_env,
    )
    uv_dir = Path(project_env()["PATH"].split(os.pathsep)[0])
    env = {**bare_env, "PATH": os.pathsep.join([str(venv / "bin"), "/usr/bin", "/bin"])}

    result = run(
        "cookiecutter",
        "--no-input",
        "-o",
        str(tmp_path / "out"),
        str(TEMPLATE_DIR),
        "dvc_remote=s3",
        "dvc_remote_url=s3://team-bucket/churn",
        cwd=tmp_path,
        env=env,
    )

    project = tmp_path / "out" / "customer-churn"
    assert (
        "DVC is not installed in this environment: `make setup` installs DVC and runs `dvc init`"
        in result.stdout
    )
    assert "`uv run dvc remote add --default storage s3://team-bucket/churn`" in result.stdout
    assert not (project / ".dvc").exists()
    assert (project / ".git").is_dir()

    run("make", "setup", cwd=project, env={**env, "PATH": os.pathsep.join([str(uv_dir), env["PATH"]])})

    assert (project / ".dvc" / "config").is_file()


def test_cruft_create_generates_the_same_project_and_records_the_template(tmp_path):
    result = run(
        "cruft", "create", "--no-input", "--output-dir", str(tmp_path), str(TEMPLATE_DIR), cwd=tmp_path
    )

    project = tmp_path / "customer-churn"
    assert "Traceback" not in result.stderr
    assert (
        json.loads((project / ".cruft.json").read_text())["context"]["cookiecutter"]["package_name"]
        == "customer_churn"
    )
    assert (project / ".dvc" / "config").is_file()
    log = subprocess.run(
        ["git", "log", "--format=%s"], cwd=project, capture_output=True, text=True, check=True
    )
    assert log.stdout.strip() == "Generate the project from cookiecutter-gitops-ml"
