"""Stage `split`: hold out a test set from the validated data, stratified by class when that makes sense."""

from __future__ import annotations

import pandas as pd
from sklearn.model_selection import train_test_split

from ..config import Params, load_params
from ..errors import PipelineError
from ..outputs import atomic_paths
from ..tables import read_validated


def split(frame: pd.DataFrame, params: Params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (train, test); the same data and seed always give the same split."""
    stratify = None
    if params.task == "classification" and params.split.stratify:
        stratify = frame[params.data.target]
        smallest = stratify.value_counts().min()
        if smallest < 2:
            raise PipelineError(
                f"cannot stratify on '{params.data.target}': a class has only {smallest} row; "
                "add data or set split.stratify: false"
            )
    try:
        train, test = train_test_split(
            frame, test_size=params.split.test_size, random_state=params.seed, stratify=stratify
        )
    except ValueError as error:
        raise PipelineError(f"cannot split {len(frame)} rows: {error}") from error
    return train, test


def main() -> None:
    params = load_params()
    train, test = split(read_validated(params.paths), params)
    with atomic_paths(params.paths.train, params.paths.test) as (train_out, test_out):
        train.to_csv(train_out, index=False)
        test.to_csv(test_out, index=False)
    print(f"split: {len(train)} train rows, {len(test)} test rows")
