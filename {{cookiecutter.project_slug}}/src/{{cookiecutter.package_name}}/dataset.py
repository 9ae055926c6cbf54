"""Read the pipeline's intermediate tables and separate features from the target."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .config import DataParams


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV written by an earlier stage."""
    return pd.read_csv(path)


def features_and_target(frame: pd.DataFrame, data: DataParams) -> tuple[pd.DataFrame, pd.Series]:
    """Split a frame into the model's inputs and the column it predicts."""
    features = frame.drop(columns=[data.target, *data.drop_columns])
    return features, frame[data.target]
