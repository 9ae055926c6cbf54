"""Read the pipeline's intermediate tables and separate features from the target."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from .config import DataParams, Paths
from .errors import PipelineError

if TYPE_CHECKING:
    import pandas as pd


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV written by an earlier stage."""
    import pandas as pd  # imported here: file_md5's users (the report, the registry) need no pandas

    return pd.read_csv(path)


def features_and_target(frame: pd.DataFrame, data: DataParams) -> tuple[pd.DataFrame, pd.Series]:
    """Split a frame into the model's inputs and the column it predicts."""
    features = frame.drop(columns=[data.target, *data.drop_columns])
    return features, frame[data.target]


def file_md5(path: Path) -> str:
    """The same content hash DVC records, so a file can be checked against dvc.lock."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_validated(paths: Paths) -> pd.DataFrame:
    """The ingested table, only if the validate stage passed it as it is now."""
    if not paths.validation.is_file():
        raise PipelineError(f"no {paths.validation}: run the validate stage first (make pipeline)")
    report = json.loads(paths.validation.read_text(encoding="utf-8"))
    if not report["passed"]:
        raise PipelineError(f"{paths.ingested} failed validation: see {paths.validation_summary}")
    if report["data_md5"] != file_md5(paths.ingested):
        raise PipelineError(f"{paths.ingested} changed after it was validated: run the validate stage again")
    return read_table(paths.ingested)
