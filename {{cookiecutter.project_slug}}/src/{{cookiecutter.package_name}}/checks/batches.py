"""Command `make-batch`: production-like batches cut from the held-out data, to show drift being caught.

`stable.csv` is a plain sample; `shifted.csv` is the same rows with one numeric column moved
and one categorical column skewed towards its rarest value. Neither has the target column:
production data arrives before its labels. `shifted-labelled.csv` is the shifted batch with
its labels, as they arrive later, its moved column kept within the range the data already has
(so that schema.yaml accepts it): for `make add-data` and the retraining loop.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import DataParams, Params, load_params
from ..data.reading import csv_arguments
from ..errors import PipelineError
from ..outputs import atomic_paths
from ..tables import read_table

NUMERIC_SHIFT_IN_SPREADS = 1.5  # how far the numeric column moves, in standard deviations
CATEGORY_SKEW_SHARE = 0.5  # share of rows moved to the rarest category


def columns_to_shift(frame: pd.DataFrame, data: DataParams) -> tuple[str, str]:
    """The first numeric and the first categorical input column."""
    inputs = [str(column) for column in frame.columns if column not in {data.target, *data.drop_columns}]
    numeric = [column for column in inputs if pd.api.types.is_numeric_dtype(frame[column])]
    categorical = [column for column in inputs if column not in numeric]
    if not numeric or not categorical:
        raise PipelineError("a shifted batch needs at least one numeric and one categorical input column")
    return numeric[0], categorical[0]


def shift(batch: pd.DataFrame, numeric: str, categorical: str, seed: int) -> pd.DataFrame:
    """Move one numeric column by a fixed number of spreads and skew one categorical column."""
    shifted = batch.copy()
    offset = NUMERIC_SHIFT_IN_SPREADS * (shifted[numeric].std() or 1.0)
    if pd.api.types.is_integer_dtype(shifted[numeric]):
        offset = round(offset)
    shifted[numeric] = shifted[numeric] + offset
    rarest = shifted[categorical].value_counts().idxmin()
    moved = np.random.default_rng(seed).random(len(shifted)) < CATEGORY_SKEW_SHARE
    shifted.loc[moved, categorical] = rarest
    return shifted


def new_identifiers(batch: pd.DataFrame, data: DataParams) -> dict[str, pd.Series]:
    """Text identifiers (data.drop_columns) marked as new customers', so added rows repeat no id."""
    text = [column for column in data.drop_columns if column in batch and batch[column].dtype == object]
    return {column: "new-" + batch[column].astype(str) for column in text}


def make_batches(held_out: pd.DataFrame, params: Params) -> dict[str, pd.DataFrame]:
    """A stable and a shifted batch, keyed by file name."""
    batch = held_out.drop(columns=[params.data.target]).reset_index(drop=True)
    numeric, categorical = columns_to_shift(held_out, params.data)
    shifted = shift(batch, numeric, categorical, params.seed)
    within = shifted[numeric].clip(held_out[numeric].min(), held_out[numeric].max())
    labels = held_out[params.data.target].to_numpy()
    labelled = shifted.assign(
        **{numeric: within, params.data.target: labels}, **new_identifiers(shifted, params.data)
    )
    return {"stable.csv": batch, "shifted.csv": shifted, "shifted-labelled.csv": labelled}


def main() -> None:
    params = load_params()
    held_out = read_table(params.paths.test)
    batches = make_batches(held_out, params)
    paths = [params.paths.batches / name for name in batches]
    with atomic_paths(*paths) as outputs:
        for batch, output in zip(batches.values(), outputs, strict=True):
            batch.to_csv(output, index=False, **csv_arguments(params.data.csv))  # as users write them
    numeric, categorical = columns_to_shift(held_out, params.data)
    written = ", ".join(str(path) for path in paths)
    print(f"make-batch: {len(held_out)} rows each in {written}; shifted: '{numeric}' and '{categorical}'")
