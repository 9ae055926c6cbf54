"""Command `drift-reference`: the base branch's data, the reference of a pull request's drift check.

The base's data is rebuilt from git when git holds it (the raw CSV its params.yaml names, read
through this branch's ingest code), so it needs no DVC remote and no earlier run's files; only
a source git does not hold (a URL, a DVC-tracked file) is fetched with DVC from the remote.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import yaml

from ..config import DataParams, Params, load_params
from ..data.ingest import is_url, keep_labelled
from ..data.reading import read_table_file
from ..errors import PipelineError
from ..outputs import atomic_paths
from ..repo.dvc import dvc_reason
from ..repo.git import file_at, file_bytes_at, resolve

# The reference folder (paths.drift_reference) as the drift check reads it.
REFERENCE_DATA = "data.csv"
REFERENCE_REVISION = "revision.txt"  # the revision that data.csv came from


def commit_of(revision: str) -> str:
    """The commit a revision names (a branch, origin/main, a tag), so the reference is exact."""
    try:
        return resolve(revision)
    except PipelineError as error:
        raise PipelineError(f"'{revision}' is not a git revision of this repository") from error


def data_params_at(commit: str) -> DataParams:
    """The `data:` section of params.yaml as that commit has it."""
    text = file_at(commit, "params.yaml")
    if text is None:
        raise PipelineError(f"{commit[:7]} has no params.yaml")
    try:
        return DataParams.model_validate(yaml.safe_load(text)["data"])
    except (yaml.YAMLError, KeyError, TypeError, ValueError) as error:
        raise PipelineError(f"params.yaml at {commit[:7]} has no usable `data:` section: {error}") from error


def data_from_git(commit: str, data: DataParams) -> pd.DataFrame | None:
    """The base's ingested data rebuilt from the raw CSV git holds, or None when git does not hold it."""
    if is_url(data.source):
        return None
    raw = file_bytes_at(commit, Path(data.source).as_posix())
    if raw is None:
        return None
    return keep_labelled(read_table_file(raw, f"{data.source} at {commit[:7]}", data.csv), data.target)


def data_from_dvc(commit: str, params: Params) -> pd.DataFrame:
    """The base's ingested data from the DVC remote that commit configures."""
    if importlib.util.find_spec("dvc") is None:
        raise PipelineError("DVC is not installed in this environment: run `make setup`")
    with tempfile.TemporaryDirectory() as scratch:
        fetched = Path(scratch) / REFERENCE_DATA
        command = [sys.executable, "-m", "dvc", "get", ".", str(params.paths.ingested), "--rev", commit]
        result = subprocess.run(  # noqa: S603 - our own interpreter running DVC, no shell
            [*command, "-o", str(fetched)], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise PipelineError(
                f"the base's data source is not in git, and {params.paths.ingested} at {commit[:7]} "
                f"could not be fetched from the DVC remote: {dvc_reason(result.stderr)} "
                "(configure a DVC remote, or keep the raw CSV in git)"
            )
        return pd.read_csv(fetched)


def fetch_reference(revision: str, params: Params) -> tuple[str, str]:
    """Write the base's ingested data into paths.drift_reference; return (commit, where it came from)."""
    commit = commit_of(revision)
    data = data_params_at(commit)
    frame = data_from_git(commit, data)
    origin = f"{data.source} in git"
    if frame is None:
        frame = data_from_dvc(commit, params)
        origin = f"{params.paths.ingested} from the DVC remote"
    reference = params.paths.drift_reference
    with atomic_paths(reference / REFERENCE_DATA, reference / REFERENCE_REVISION) as (data_out, revision_out):
        frame.to_csv(data_out, index=False)
        revision_out.write_text(f"{revision} at {commit[:7]}\n", encoding="utf-8")
    return commit, origin


def parser() -> argparse.ArgumentParser:
    """`drift-reference [--rev REV]`."""
    command = argparse.ArgumentParser(prog="drift-reference", description="Prepare the base branch's data.")
    command.add_argument("--rev", default="main", help="the git revision to compare with (default: main)")
    return command


def main(argv: list[str]) -> None:
    arguments = parser().parse_args(argv)
    params = load_params()
    commit, origin = fetch_reference(arguments.rev, params)
    print(f"drift-reference: the reference is {arguments.rev} ({commit[:7]}): {origin}")
