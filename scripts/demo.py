"""`make demo`: generate a project with default answers and walk through its loop, step by step."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
SUPPORTED_PYTHONS = ("3.10", "3.11", "3.12", "3.13")


def step(title: str) -> None:
    """Announce a step so the demo reads as a story in the terminal."""
    print(f"\n\033[1m==> {title}\033[0m", flush=True)


def run(*command: str, cwd: Path) -> None:
    """Run a command as the user would type it, showing it first, stopping the demo if it fails."""
    print(f"$ {' '.join(command)}", flush=True)
    subprocess.run(command, cwd=cwd, check=True)


def python_answer() -> str:
    """Generate for the Python running the demo, so uv finds it without downloading one."""
    current = f"{sys.version_info.major}.{sys.version_info.minor}"
    return current if current in SUPPORTED_PYTHONS else "3.11"


def main(demo_dir: Path) -> None:
    if demo_dir.exists():
        shutil.rmtree(demo_dir)
    demo_dir.mkdir(parents=True)
    for inherited in ("VIRTUAL_ENV", "MAKEFLAGS", "MAKELEVEL"):
        os.environ.pop(inherited, None)

    step("Generate a project with the default answers")
    run(
        sys.executable,
        "-m",
        "cookiecutter",
        "--no-input",
        "-o",
        str(demo_dir),
        str(TEMPLATE_DIR),
        f"python_version={python_answer()}",
        cwd=demo_dir,
    )
    project = next(path for path in demo_dir.iterdir() if path.is_dir())

    step("Set it up: environment, git hooks, DVC")
    run("make", "setup", cwd=project)

    step("Run the pipeline: ingest → split → train → evaluate")
    run("make", "pipeline", cwd=project)

    step("Run it again: nothing changed, so nothing runs")
    run("make", "pipeline", cwd=project)

    step("Run the project's tests")
    run("make", "test", cwd=project)

    step("The model's metrics on the held-out set")
    run("make", "metrics", cwd=project)

    print(f"\nThe project is in {project}. Open its README.md for the daily loop.")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
