"""Configure DVC from the template's answers: `python -m {{ cookiecutter.package_name }} configure-dvc`.

The one place the project's DVC set-up is written down. The post-generation hook runs it when
DVC is installed where cookiecutter runs; otherwise `make setup` runs it. It only adds what is
missing: a second run changes nothing, and a setting or remote the user changed is left alone.
This module uses the standard library only, because the hook loads it by path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

REMOTE = "storage"
# Project-level settings, written to the committed .dvc/config.
SETTINGS = {"core.autostage": "true", "core.analytics": "false"}
PROJECT_CONFIG = Path(".dvc") / "config"


class DvcSetupError(Exception):
    """A DVC command failed: the message names it and says what DVC printed."""


def run_dvc(project_dir: Path, dvc: Sequence[str], *arguments: str) -> str:
    """Run one DVC command in the project, without DVC's analytics; return its output."""
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    result = subprocess.run(  # noqa: S603 - DVC and our own arguments, no shell
        [*dvc, *arguments], cwd=project_dir, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()
        raise DvcSetupError(f"`dvc {' '.join(arguments)}` failed: {output}")
    return result.stdout


def read_config(project_dir: Path, dvc: Sequence[str]) -> tuple[dict[str, str], dict[str, str]]:
    """The project-level settings, and the effective ones (every level, later levels winning)."""
    project: dict[str, str] = {}
    effective: dict[str, str] = {}
    for line in run_dvc(project_dir, dvc, "config", "--list", "--show-origin").splitlines():
        origin, _, setting = line.partition("\t")
        key, _, value = setting.partition("=")
        effective[key] = value
        if Path(origin) == PROJECT_CONFIG:
            project[key] = value
    return project, effective


def same_url(project_dir: Path, kind: str, configured: str, wanted: str) -> bool:
    """Whether a remote's URL as DVC lists it is the URL the answers give."""
    if kind == "local":  # DVC lists a directory as an absolute path
        return (project_dir / configured).resolve() == (project_dir / wanted).resolve()
    return configured.rstrip("/") == wanted.rstrip("/")


def configure_remote(
    project_dir: Path, dvc: Sequence[str], kind: str, url: str, effective: Mapping[str, str]
) -> list[str]:
    """Add the answers' remote as the default `storage` unless the user set up remotes of their own."""
    if not url:
        return ["no dvc_remote_url in the answers: no remote added"]
    default = effective.get("core.remote")
    current = effective.get(f"remote.{REMOTE}.url")
    if current is not None and not same_url(project_dir, kind, current, url):
        return [f"left the remote '{REMOTE}' as it is: it points to {current}, not {url}"]
    if default not in (None, REMOTE):
        return [f"left the default remote '{default}' as it is: '{REMOTE}' ({url}) is not the default"]
    if current is None:
        run_dvc(project_dir, dvc, "remote", "add", *([] if default else ["--default"]), REMOTE, url)
        return [f"added the default remote '{REMOTE}': {url}"]
    if default is None:
        run_dvc(project_dir, dvc, "remote", "default", REMOTE)
        return [f"made '{REMOTE}' the default remote"]
    return []


def configure(project_dir: Path, answers: Mapping[str, str], dvc: Sequence[str]) -> list[str]:
    """Bring the project's DVC set-up to what the answers ask; return what changed or was left, a line each.

    `dvc` is how to run DVC, such as ["dvc"] or [sys.executable, "-m", "dvc"].
    """
    done = []
    if not (project_dir / ".dvc").is_dir():
        run_dvc(project_dir, dvc, "init", "--quiet")
        done.append("initialised DVC")
    project, effective = read_config(project_dir, dvc)
    for key, value in SETTINGS.items():
        if key not in project:
            run_dvc(project_dir, dvc, "config", key, value)
            done.append(f"set {key} {value}")
        elif project[key] != value:
            done.append(f"left {key} as it is: {project[key]}")
    kind = answers.get("dvc_remote", "none")
    if kind != "none":
        done += configure_remote(project_dir, dvc, kind, answers.get("dvc_remote_url", ""), effective)
    return done


def main() -> int:
    """Configure DVC in the current directory from the answers in .cookiecutter.json."""
    project_dir = Path.cwd()
    answers_file = project_dir / ".cookiecutter.json"
    if answers_file.is_file():
        answers = json.loads(answers_file.read_text(encoding="utf-8"))
    else:
        print("configure-dvc: no .cookiecutter.json here: no remote to add", file=sys.stderr)
        answers = {}
    try:
        done = configure(project_dir, answers, [sys.executable, "-m", "dvc"])
    except DvcSetupError as error:
        print(f"configure-dvc: error: {error}", file=sys.stderr)
        return 1
    for line in done or ["DVC is already set up as the answers ask"]:
        print(f"configure-dvc: {line}")
    return 0
