"""Command `join-labels`: served predictions meet their later-arriving outcomes, by request id.

The prediction log (`make serve`) holds each request's id and inputs; the outcomes arrive later
as a CSV with `request_id`, the target column and, for requests of several rows, `row` (the
row's position in the request, from 0). The result is a labelled batch for `make add-data`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from ..config import Params, load_params
from ..data.ingest import read_source
from ..errors import PipelineError
from ..outputs import atomic_path

SERVED_ROLES = ("stable", "candidate")  # shadow answers reached no caller


def log_files(log: Path) -> list[Path]:
    """A log file, or every daily log in a directory, in date order."""
    if log.is_dir():
        return sorted(log.glob("predictions-*.jsonl"))
    if log.is_file():
        return [log]
    raise PipelineError(f"no such prediction log: {log}")


def served_rows(log: Path) -> pd.DataFrame:
    """One row per scored input row: request_id, row (its position) and the inputs."""
    rows = []
    for path in log_files(log):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            entry = json.loads(line)
            if entry.get("role") not in SERVED_ROLES or not entry.get("outputs", {}).get("predictions"):
                continue
            for position, inputs in enumerate(entry["inputs"]):
                rows.append({**inputs, "request_id": str(entry["request_id"]), "row": position})
    if not rows:
        raise PipelineError(f"{log} holds no answered predictions")
    return pd.DataFrame(rows)


def join(served: pd.DataFrame, labels: pd.DataFrame, params: Params) -> pd.DataFrame:
    """The served inputs with their outcome, for the requests that have one; nothing else."""
    target = params.data.target
    missing = [column for column in ("request_id", target) if column not in labels.columns]
    if missing:
        raise PipelineError(f"the labels need request_id and {target}; missing: {', '.join(missing)}")
    labels = labels.assign(request_id=labels["request_id"].astype(str))
    if "row" not in labels.columns:
        labels = labels.assign(row=0)
    duplicated = labels.duplicated(["request_id", "row"])
    if duplicated.any():
        first = labels.loc[duplicated, "request_id"].iloc[0]
        raise PipelineError(f"the labels give request {first} more than one outcome")
    joined = served.drop(columns=[target], errors="ignore").merge(
        labels[["request_id", "row", target]], on=["request_id", "row"], how="inner", validate="one_to_one"
    )
    return joined.drop(columns=["request_id", "row"])


def main(argv: list[str]) -> int:
    command = argparse.ArgumentParser(prog="join-labels", description=__doc__.splitlines()[0])
    command.add_argument("log", type=Path, help="a prediction log file, or its directory")
    command.add_argument("labels", help="outcomes: a CSV path or URL with request_id and the target")
    command.add_argument("--output", type=Path, help="the labelled batch (default: under feedback.pending)")
    arguments = command.parse_args(argv)
    params = load_params()
    joined = join(
        served_rows(arguments.log),
        read_source(arguments.labels, params.data.download, params.data.csv),
        params,
    )
    if joined.empty:
        raise PipelineError("no logged request has an outcome yet: nothing to write")
    output = arguments.output or params.feedback.pending / f"labelled-{pd.Timestamp.now('UTC'):%Y-%m-%d}.csv"
    with atomic_path(output) as out:
        joined.to_csv(out, index=False)
    print(f"join-labels: {len(joined)} labelled rows in {output}")
    return 0
