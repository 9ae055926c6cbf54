"""Every combination of options renders to a clean, lint-free project."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from .conftest import PACKAGE

TASKS = ("classification", "regression")
REMOTES = ("none", "local", "s3", "gcs", "azure")
REMOTE_URLS = {  # `none` takes the template's own (empty) default
    "local": "../storage",
    "s3": "s3://bucket/p",
    "gcs": "gs://bucket/p",
    "azure": "azure://box/p",
}


def remote_answers(remote: str) -> dict[str, str]:
    """The answers that choose `remote`, with its URL when it takes one."""
    return {"dvc_remote": remote} | ({"dvc_remote_url": REMOTE_URLS[remote]} if remote in REMOTE_URLS else {})


COMBINATIONS = [
    {"task": task, **remote_answers(remote)} for task, remote in itertools.product(TASKS, REMOTES)
] + [{"python_version": version} for version in ("3.10", "3.12", "3.13")]
IDS = ["-".join(answers[key] for key in answers if key != "dvc_remote_url") for answers in COMBINATIONS]

# A Jinja expression or tag; GitHub's own `${{ ... }}` expressions are meant to stay.
JINJA_LEFTOVER = re.compile(r"(?<!\$)\{\{\s*\w|\{%|%\}")


@pytest.fixture(params=COMBINATIONS, ids=IDS)
def project(request, bake_once) -> Path:
    return bake_once(**request.param)


def project_files(project: Path) -> list[Path]:
    """Files the project's git repository tracks."""
    listed = subprocess.run(["git", "ls-files"], cwd=project, capture_output=True, text=True, check=True)
    return [project / name for name in listed.stdout.splitlines()]


def test_nothing_is_left_unrendered(project):
    leftovers = [
        f"{path.relative_to(project)}: {match.group()}"
        for path in project_files(project)
        for match in [
            JINJA_LEFTOVER.search(path.read_text(encoding="utf-8")),
            JINJA_LEFTOVER.search(path.name),
        ]
        if match
    ]

    assert leftovers == []


def test_every_text_file_ends_with_one_newline(project):
    """What the project's end-of-file hook demands, so `make lint` passes on the first commit."""
    badly_ended = [
        str(path.relative_to(project))
        for path in project_files(project)
        if (text := path.read_text(encoding="utf-8")) and (not text.endswith("\n") or text.endswith("\n\n"))
    ]

    assert badly_ended == []


def test_ruff_finds_nothing_to_fix(project):
    check = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "."], cwd=project, capture_output=True, text=True
    )
    formatting = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "."], cwd=project, capture_output=True, text=True
    )

    assert check.returncode == 0, check.stdout
    assert formatting.returncode == 0, formatting.stdout


def test_config_files_parse_and_agree_with_the_answers(project):
    answers = json.loads((project / ".cookiecutter.json").read_text())
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    params = yaml.safe_load((project / "params.yaml").read_text())
    dvc_yaml = yaml.safe_load((project / "dvc.yaml").read_text())

    assert pyproject["project"]["requires-python"] == f">={answers['python_version']}"
    assert (project / ".python-version").read_text().strip() == answers["python_version"]
    assert params["task"] == answers["task"]
    assert set(dvc_yaml["stages"]) == {"ingest", "validate", "split", "train", "evaluate"}
    assert dvc_yaml["artifacts"]["model"]["path"] == params["paths"]["model"]
    assert (project / "src" / PACKAGE / "__init__.py").is_file()


def test_only_the_tasks_sample_is_shipped(project):
    task = json.loads((project / ".cookiecutter.json").read_text())["task"]
    params = yaml.safe_load((project / "params.yaml").read_text())

    assert sorted(path.name for path in (project / "data" / "raw").iterdir()) == [
        Path(params["data"]["source"]).name
    ]
    assert {"classification": "customers.csv", "regression": "houses.csv"}[task] in params["data"]["source"]


def test_the_remote_is_configured_and_its_plugin_required(project):
    answers = json.loads((project / ".cookiecutter.json").read_text())
    dvc_config = (project / ".dvc" / "config").read_text()
    dependencies = " ".join(
        tomllib.loads((project / "pyproject.toml").read_text())["dependency-groups"]["dev"]
    )
    plugins = {"s3": "dvc-s3", "gcs": "dvc-gs", "azure": "dvc-azure"}

    if answers["dvc_remote"] == "none":
        assert "remote" not in dvc_config
    else:
        assert "remote = storage" in dvc_config
        assert answers["dvc_remote_url"].removeprefix("../") in dvc_config
    for kind, plugin in plugins.items():
        assert (plugin in dependencies) == (answers["dvc_remote"] == kind)


def test_the_project_is_one_clean_commit_on_main(project):
    status = subprocess.run(["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True)
    log = subprocess.run(["git", "log", "--format=%s", "main"], cwd=project, capture_output=True, text=True)

    assert status.stdout == ""
    assert log.stdout.splitlines() == ["Generate the project from cookiecutter-gitops-ml"]


@pytest.mark.parametrize("task", TASKS)
def test_the_package_layout_holds_and_every_stage_depends_on_the_modules_it_runs(bake_once, task):
    """The generated project's own architecture test, run on each task's render: no import
    circles, rooms that import only downwards, dvc.yaml deps equal to each stage's import
    closure. (What imports without the tools or without scikit-learn needs the project's
    environment: its own suite checks that.)"""
    project = bake_once(task=task)
    pytest_command = [sys.executable, "-m", "pytest", "--noconftest", "-p", "no:cacheprovider", "-q"]
    result = subprocess.run(
        [*pytest_command, "tests/test_layout.py", "-k", "not without_the_tools and not no_scikit_learn"],
        cwd=project,
        env={"PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(project / "src")},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b7 passed\b", result.stdout), result.stdout  # 2 + one per stage
