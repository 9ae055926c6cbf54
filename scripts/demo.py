"""`make demo`: generate a project with default answers and walk through its whole loop.

Set up, train, open a pull request that changes a parameter (and show the comment CI would
post on it), merge it, register the model, promote it to staging. GitHub's side is played by
a bare repository on disk as `origin`, and the DVC remote is a directory beside it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
SUPPORTED_PYTHONS = ("3.10", "3.11", "3.12", "3.13")
BOT = ["-c", "user.name=Demo User", "-c", "user.email=demo@example.com"]


def step(title: str) -> None:
    """Announce a step so the demo reads as a story in the terminal."""
    print(f"\n\033[1m==> {title}\033[0m", flush=True)


def run(*command: str, cwd: Path, env: dict[str, str] | None = None) -> None:
    """Run a command as the user would type it, showing it first, stopping the demo if it fails."""
    print(f"$ {' '.join(command)}", flush=True)
    subprocess.run(command, cwd=cwd, check=True, env={**os.environ, **(env or {})})


def git(*arguments: str, cwd: Path) -> None:
    """git with a fixed identity, so the demo works on a machine where none is configured."""
    run("git", *BOT, *arguments, cwd=cwd)


def python_answer() -> str:
    """Generate for the Python running the demo, so uv finds it without downloading one."""
    current = f"{sys.version_info.major}.{sys.version_info.minor}"
    return current if current in SUPPORTED_PYTHONS else "3.11"


def change_param(params: Path, key: str, old: str, new: str) -> None:
    """Edit one value of params.yaml in place, as a person would, keeping its comments."""
    text = params.read_text()
    params.write_text(re.sub(rf"(\n\s+{key}: ){old}\n", rf"\g<1>{new}\n", text, count=1))
    print(f"# params.yaml: {key} {old} -> {new}")


def main(demo_dir: Path) -> None:
    if demo_dir.exists():
        shutil.rmtree(demo_dir)
    demo_dir.mkdir(parents=True)
    for inherited in ("VIRTUAL_ENV", "MAKEFLAGS", "MAKELEVEL"):
        os.environ.pop(inherited, None)

    step("Generate a project with the default answers (and a directory as its DVC remote)")
    run(
        sys.executable,
        "-m",
        "cookiecutter",
        "--no-input",
        "-o",
        str(demo_dir),
        str(TEMPLATE_DIR),
        f"python_version={python_answer()}",
        "dvc_remote=local",
        f"dvc_remote_url={demo_dir / 'dvc-storage'}",
        cwd=demo_dir,
    )
    project = demo_dir / "customer-churn"
    run("git", "init", "--quiet", "--bare", "-b", "main", "origin.git", cwd=demo_dir)
    git("remote", "add", "origin", "../origin.git", cwd=project)

    step("Set it up: environment, git hooks, DVC")
    run("make", "setup", cwd=project)

    step("Run the pipeline, then again: the second run has nothing to do")
    run("make", "pipeline", cwd=project)
    run("make", "pipeline", cwd=project)

    step("Test the model: gates, behaviour, slices (`make test` adds the project's unit tests)")
    run("make", "test-model", cwd=project)

    step("Commit the first model, push it, register it")
    git("add", "--all", cwd=project)
    git("commit", "--quiet", "--no-verify", "-m", "Train the first model", cwd=project)
    git("push", "--quiet", "-u", "origin", "main", cwd=project)
    run("make", "push", cwd=project)
    run("make", "register", cwd=project)

    step("A pull request: more trees")
    git("checkout", "--quiet", "-b", "more-trees", cwd=project)
    change_param(project / "params.yaml", "n_estimators", "200", "300")
    run("make", "drift-reference", "BASE=main", cwd=project)
    run("make", "pipeline", cwd=project)
    run("make", "test-model", cwd=project)
    run("make", "drift", cwd=project)
    run("make", "report", cwd=project)

    step("The comment CI would post on the pull request")
    print((project / "reports" / "pr_report.md").read_text(), flush=True)

    step("Merge it: main checks that dvc.lock is what the pull request trained, then registers it")
    git("add", "--all", cwd=project)
    git("commit", "--quiet", "--no-verify", "-m", "Train with 300 trees", cwd=project)
    git("checkout", "--quiet", "main", cwd=project)
    git("merge", "--quiet", "--no-ff", "--no-edit", "more-trees", cwd=project)
    git("push", "--quiet", "origin", "main", cwd=project)
    run("make", "push", cwd=project)
    step("What main.yml does on GitHub: a fresh clone of main proves dvc.lock, then registers")
    fresh = demo_dir / "main-checkout"
    run("git", "clone", "--quiet", "origin.git", fresh.name, cwd=demo_dir)
    run("make", "setup", "verify-lock", cwd=fresh)
    run("make", "register", cwd=project)

    step("Promote the new version to staging, and show the registry")
    run("make", "promote", "VERSION=v0.2.0", "STAGE=staging", cwd=project)
    run("make", "registry", cwd=project)

    print(f"\nThe project is in {project}. Open its README.md for the daily loop.")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
