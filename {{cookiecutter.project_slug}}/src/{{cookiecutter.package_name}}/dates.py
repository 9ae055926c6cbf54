"""What counts as a date column, and its values as timestamps: the schema, validation, serving's
checks and the model's features must agree on both.

Only ISO 8601 text counts (2024-03-31, 2024-03-31 14:05, 2024-03-31T14:05:00+02:00): it is the
one way of writing a date that nobody reads day-first by mistake, and what a Parquet or CSV
writer produces. Other spellings stay text, for the user to convert or drop.
"""

from __future__ import annotations

import pandas as pd

ISO_DATE = r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?"


def as_timestamps(values: pd.Series) -> pd.Series:
    """Values as timestamps without a time zone (those with an offset in UTC); anything else NaT."""
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = pd.to_datetime(values, utc=True)
    else:
        text = values.astype("string")
        iso = text.where(text.str.fullmatch(ISO_DATE).fillna(False))
        stamps = pd.to_datetime(iso, format="ISO8601", errors="coerce", utc=True)
    return stamps.dt.tz_convert(None)


def is_date_column(values: pd.Series) -> bool:
    """True for timestamps, and for text whose every value is an ISO 8601 date or time."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return True
    present = values.dropna()
    if present.empty or pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return False
    return bool(as_timestamps(present).notna().all())


def date_text(stamp: pd.Timestamp) -> str:
    """A timestamp as schema.yaml writes it: the date alone when it is midnight."""
    return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat(sep=" ")


def as_iso_text(values: pd.Series) -> pd.Series:
    """Timestamps as the ISO text a CSV holds (in UTC, the date alone when every time is midnight),
    so that a table read from Parquet looks to every stage as it would from a CSV."""
    stamps = as_timestamps(values)
    dates_only = bool((stamps.dropna() == stamps.dropna().dt.normalize()).all())
    return stamps.dt.strftime("%Y-%m-%d" if dates_only else "%Y-%m-%d %H:%M:%S").astype(object)
