"""Command `drift-reference`: fetch the base branch's data, the reference of a pull request's drift."""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .config import Params, load_params
from .drift import REFERENCE_DATA, REFERENCE_REVISION
from .errors import PipelineError
from .model_artifact import dvc_reason
from .outputs import atomic_paths


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603


def commit_of(revision: str) -> str:
    """The commit a revision names (a branch, origin/main, a tag), so the reference is exact."""
    result = run("git", "rev-parse", "--verify", revision + "^{commit}")
    if result.returncode != 0:
        raise PipelineError(f"'{revision}' is not a git revision of this repository")
    return result.stdout.strip()


def fetch_reference(revision: str, params: Params) -> str:
    """Copy paths.ingested as it was at `revision` (DVC cache or remote) into paths.drift_reference."""
    if importlib.util.find_spec("dvc") is None:
        raise PipelineError("DVC is not installed in this environment: run `make setup`")
    commit = commit_of(revision)
    with tempfile.TemporaryDirectory() as scratch:
        fetched = Path(scratch) / REFERENCE_DATA
        result = run(
            sys.executable, "-m", "dvc", "get", ".", str(params.paths.ingested),
            "--rev", commit, "-o", str(fetched),
        )  # fmt: skip
        if result.returncode != 0:
            raise PipelineError(
                f"could not get {params.paths.ingested} at {revision}: {dvc_reason(result.stderr)}"
            )
        reference = params.paths.drift_reference
        targets = (reference / REFERENCE_DATA, reference / REFERENCE_REVISION)
        with atomic_paths(*targets) as (data_out, revision_out):
            shutil.copyfile(fetched, data_out)
            revision_out.write_text(f"{revision} at {commit[:7]}\n", encoding="utf-8")
    return commit


def parser() -> argparse.ArgumentParser:
    """`drift-reference [--rev REV]`."""
    command = argparse.ArgumentParser(prog="drift-reference", description="Fetch the base branch's data.")
    command.add_argument("--rev", default="main", help="the git revision to compare with (default: main)")
    return command


def main(argv: list[str]) -> None:
    arguments = parser().parse_args(argv)
    params = load_params()
    commit = fetch_reference(arguments.rev, params)
    print(f"drift-reference: the reference is {params.paths.ingested} at {arguments.rev} ({commit[:7]})")
