"""Stage `split`: hold out a test set from the validated data, stratified by class when that makes sense.

One seeded shuffle with pandas, so the stage imports no scikit-learn: the same data and seed
always give the same split."""

from __future__ import annotations

import math

import pandas as pd

from ..config import Params, load_params
from ..errors import PipelineError
from ..outputs import atomic_paths
from ..tables import read_validated


def held_out_per_class(counts: pd.Series, test_size: float) -> pd.Series:
    """How many rows of each class (`counts`: rows per class) the test set takes: its share, but
    at least one and never all, so that every class is both trained on and scored."""
    return (counts * test_size).round().clip(lower=1, upper=counts - 1).astype(int)


def split(frame: pd.DataFrame, params: Params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (train, test), each in shuffled order."""
    if len(frame) < 2:
        raise PipelineError(f"cannot split {len(frame)} row(s): the training and the test set need one each")
    shuffled = frame.sample(frac=1, random_state=params.seed)
    if params.task == "classification" and params.split.stratify:
        target = shuffled[params.data.target]
        counts = target.value_counts()
        if (smallest := counts.min()) < 2:
            raise PipelineError(
                f"cannot stratify on '{params.data.target}': a class has only {smallest} row; "
                "add data or set split.stratify: false"
            )
        quota = target.map(held_out_per_class(counts, params.split.test_size))
        in_test = shuffled.groupby(target).cumcount() < quota
        return shuffled[~in_test], shuffled[in_test]
    test_rows = min(max(math.ceil(params.split.test_size * len(frame)), 1), len(frame) - 1)
    return shuffled.iloc[test_rows:], shuffled.iloc[:test_rows]


def main() -> None:
    params = load_params()
    train, test = split(read_validated(params.paths), params)
    with atomic_paths(params.paths.train, params.paths.test) as (train_out, test_out):
        train.to_csv(train_out, index=False)
        test.to_csv(test_out, index=False)
    print(f"split: {len(train)} train rows, {len(test)} test rows")
