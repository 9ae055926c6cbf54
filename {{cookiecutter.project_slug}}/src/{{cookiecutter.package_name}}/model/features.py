"""The preprocessing every model shares: your code, change it to engineer features.

Whatever it does is fitted with the estimator as one scikit-learn Pipeline, so the model file
carries it and serving applies exactly the same steps. Date columns (ISO 8601 text, see
dates.py) become numbers a model can split on: their year, month and day of the week. As text
they would be one category per day, and next month's days a category never seen.
"""

from __future__ import annotations

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from ..dates import as_timestamps, is_date_column


def date_parts(frame: pd.DataFrame) -> pd.DataFrame:
    """Each date column as its year, month and day of the week (Monday 0); a missing date as NaN."""
    parts = {}
    for column in frame.columns:
        stamps = as_timestamps(frame[column])
        parts[f"{column}_year"] = stamps.dt.year
        parts[f"{column}_month"] = stamps.dt.month
        parts[f"{column}_weekday"] = stamps.dt.dayofweek
    return pd.DataFrame(parts, index=frame.index).astype(float)


def build_preprocessor(features: pd.DataFrame) -> ColumnTransformer:
    """Impute and scale numbers; turn dates into numbers; impute and one-hot encode everything else."""
    numeric = features.select_dtypes(include="number").columns.tolist()
    dates = [
        column for column in features.columns if column not in numeric and is_date_column(features[column])
    ]
    categorical = [column for column in features.columns if column not in numeric and column not in dates]
    steps = [
        ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
        (
            "categorical",
            make_pipeline(
                SimpleImputer(strategy="most_frequent"),
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
            ),
            categorical,
        ),
    ]
    if dates:
        date_steps = make_pipeline(
            FunctionTransformer(date_parts), SimpleImputer(strategy="median"), StandardScaler()
        )
        steps.append(("dates", date_steps, dates))
    return ColumnTransformer(steps)
