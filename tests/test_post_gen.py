"""The post-generation hook finishes the repository, and explains what it could not do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import post_gen_project
import pytest
from cookiecutter.main import cookiecutter

from .conftest import PACKAGE, TEMPLATE_DIR, bake, project_env, run
from .test_render import remote_answers

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


def render_without_hooks(output_dir: Path, **answers: str) -> Path:
    """The project as cookiecutter writes it, before the post-generation hook runs."""
    output_dir.mkdir(parents=True)
    return Path(
        cookiecutter(
            str(TEMPLATE_DIR),
            no_input=True,
            output_dir=str(output_dir),
            extra_context=answers,
            accept_hooks=False,
        )
    )


@pytest.mark.parametrize("remote", ["none", "local", "s3", "gcs", "azure"])
def test_without_dvc_the_set_up_dvc_gets_is_the_one_generation_with_dvc_gives(
    remote, tmp_path, monkeypatch, capsys, bake_once
):
    project = render_without_hooks(tmp_path / "out", **remote_answers(remote))
    answers = json.loads((project / ".cookiecutter.json").read_text())
    monkeypatch.setattr(post_gen_project, "dvc_command", lambda: None)

    post_gen_project.finish(project, answers)
    said = capsys.readouterr().out
    # What `make setup` runs once `uv sync` has installed DVC.
    run(
        sys.executable,
        "-m",
        PACKAGE,
        "configure-dvc",
        cwd=project,
        env=project_env(PYTHONPATH=str(project / "src")),
    )

    assert "`make setup` will finish the DVC set-up from your answers" in said
    assert ("`storage`" in said) == (remote != "none")
    assert (project / ".dvc" / "config").read_text() == (
        bake_once(**remote_answers(remote)) / ".dvc" / "config"
    ).read_text()


@pytest.mark.slow
def test_without_dvc_make_setup_finishes_the_set_up_and_make_push_reaches_the_remote(tmp_path, bake_once):
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
    setup_env = {**env, "PATH": os.pathsep.join([str(uv_dir), env["PATH"]])}

    result = run(
        "cookiecutter", "--no-input", "-o", str(tmp_path / "out"), str(TEMPLATE_DIR), "dvc_remote=local",
        cwd=tmp_path, env=env,
    )  # fmt: skip

    project = tmp_path / "out" / "customer-churn"
    storage = tmp_path / "out" / "customer-churn-dvc-storage"
    assert "DVC is not installed here, so `make setup` will finish the DVC set-up" in result.stdout
    assert "`storage` (../customer-churn-dvc-storage)" in result.stdout
    assert not (project / ".dvc").exists()

    first = run("make", "setup", cwd=project, env=setup_env)
    config = (project / ".dvc" / "config").read_text()
    second = run("make", "setup", cwd=project, env=setup_env)

    assert config == (bake_once(dvc_remote="local") / ".dvc" / "config").read_text()
    assert "configure-dvc: added the default remote 'storage'" in first.stdout
    assert "configure-dvc: DVC is already set up as the answers ask" in second.stdout
    assert (project / ".dvc" / "config").read_text() == config
    # The module's own tests, in the environment `make setup` made.
    run("uv", "run", "pytest", "-q", "tests/repo/test_dvc_setup.py", cwd=project, env=setup_env)

    (project / "data" / "raw" / "extra.csv").write_text("a,b\n1,2\n")
    run("uv", "run", "dvc", "add", "data/raw/extra.csv", cwd=project, env=setup_env)
    run("make", "push", cwd=project, env=setup_env)

    assert [path for path in storage.rglob("*") if path.is_file()]


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
    # cruft writes .cruft.json after the hook's commit; the hook wrote the same bytes into it
    status = subprocess.run(["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True)
    assert status.stdout == ""
    # nor anything git ignores: cruft renders the project again to diff template versions
    assert not list(project.rglob("__pycache__"))
