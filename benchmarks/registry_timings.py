"""How long the registry's commands take in a freshly baked project: printed, never asserted.

Usage: .venv/bin/python benchmarks/registry_timings.py   (bakes into a temporary directory)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE_DIR = Path(__file__).resolve().parents[1]


def timed(label: str, *command: str, cwd: Path, env: dict[str, str]) -> None:
    """Run a command and print its wall time; stop on failure, showing its output."""
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{label} failed:\n{result.stdout}\n{result.stderr}")
    print(f"{label:<32} {elapsed:6.1f} s")


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="registry-timings-"))
    env = {key: value for key, value in os.environ.items() if key not in {"VIRTUAL_ENV"}}
    env.update(DVC_NO_ANALYTICS="1", UV_PYTHON_DOWNLOADS="never")
    project = Path(
        cookiecutter(
            str(TEMPLATE_DIR),
            no_input=True,
            output_dir=str(root),
            extra_context={"dvc_remote": "local", "dvc_remote_url": str(root / "storage")},
        )
    )
    subprocess.run(["git", "init", "--quiet", "--bare", "-b", "main", str(root / "origin.git")], check=True)
    subprocess.run(["git", "remote", "add", "origin", str(root / "origin.git")], cwd=project, check=True)
    timed("make setup", "make", "setup", cwd=project, env=env)
    timed("make pipeline", "make", "pipeline", cwd=project, env=env)
    # The model tests' verdict, as the model tests stage commits it.
    (project / "reports" / "model_tests.json").write_text(json.dumps({"passed": True}) + "\n")
    subprocess.run(["git", "add", "--all"], cwd=project, check=True)
    commit = ["git", "commit", "--quiet", "--no-verify", "-m", "Train the first model"]
    subprocess.run(commit, cwd=project, env=env, check=True)
    timed("make push", "make", "push", cwd=project, env=env)
    timed("make register", "make", "register", cwd=project, env=env)
    timed("make register (unchanged)", "make", "register", cwd=project, env=env)
    promote = ("make", "promote", "VERSION=v0.1.0", "STAGE=staging")
    timed("make promote (staging)", *promote, cwd=project, env=env)
    timed("make registry", "make", "registry", cwd=project, env=env)
    publisher = {
        "MODEL_PUBLISHER": str(project / "scripts" / "publish_directory.sh"),
        "MODEL_PUBLISH_DIR": str(root / "published"),
    }
    timed("make deploy", "make", "deploy", "TAG=model#staging#1", cwd=project, env={**env, **publisher})
    print(f"(project in {project})")


if __name__ == "__main__":
    main()
