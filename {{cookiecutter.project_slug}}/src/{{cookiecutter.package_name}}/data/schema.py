"""The data contract in schema.yaml: its typed form, and `schema`, which infers a first version."""

from __future__ import annotations

import datetime as dt
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml
from pydantic import Field, field_validator, model_validator

from ..config import DataParams, Section, Task, invalid_values_reported, load_params, read_yaml
from ..dates import as_timestamps, date_text, is_date_column
from ..errors import PipelineError
from ..outputs import atomic_path
from .ingest import duplicate_names, ingest_source
from .reading import one_column_fix, separation

DType = Literal["integer", "number", "string", "boolean", "datetime"]
ColumnCheck = Literal["dtype", "nullable", "max_missing", "unique", "min", "max", "allowed"]
DatasetCheck = Literal["min_rows", "min_class_share"]

# A text column with at most this many distinct values is treated as a category.
MAX_CATEGORIES = 30
# An inferred max_missing is the observed share of missing values plus this margin, at most
# MISSING_CEILING (never below the observed share, so the data passes its own schema).
MISSING_MARGIN = 0.1
MISSING_CEILING = 0.95

HEADER = """\
# What the validate stage accepts, reviewed like code. `make schema` wrote a first version
# from the data; tighten or loosen it here and commit it with the data it describes.
# Every check is hard (it stops the pipeline) unless listed under `soft:`, which only warns.
# Column checks: dtype (integer | number | string | boolean | datetime), nullable, max_missing
# (the largest share of missing values), unique, min, max, allowed (the categories). Dataset
# checks: min_rows, min_class_share (the rarest class of a classification target).
# A datetime column holds ISO 8601 text (2024-03-31, 2024-03-31 14:05); its dtype check is that
# every value parses. Its min and max are the dates seen, and soft: next month's data is later
# than anything seen, which is worth a warning in the report, never a stop.
# Always hard, whatever this file says: no duplicate column names, no empty column, at least
# two classes in a classification target, more than one value in a regression target.
# `sensitive: true` makes the prediction log keep only a hash of the column.
"""


class ColumnRules(Section):
    dtype: DType
    nullable: bool = False
    max_missing: float | None = Field(default=None, ge=0, le=1)
    unique: bool = False
    min: float | str | None = Field(default=None, description="A number, or a date for a datetime column.")
    max: float | str | None = Field(default=None, description="A number, or a date for a datetime column.")
    allowed: tuple[str, ...] | None = None
    soft: tuple[ColumnCheck, ...] = ()
    sensitive: bool = False  # the prediction log keeps only a hash of its values

    @field_validator("min", "max", mode="before")
    @classmethod
    def date_as_text(cls, value: Any) -> Any:
        """YAML reads an unquoted 2024-03-31 as a date: keep it as the text it was."""
        return value.isoformat() if isinstance(value, dt.date) else value

    @model_validator(mode="after")
    def bounds_fit_dtype(self) -> ColumnRules:
        for name, bound in (("min", self.min), ("max", self.max)):
            if bound is None:
                continue
            if self.dtype == "datetime":
                if not isinstance(bound, str) or as_timestamps(pd.Series([bound])).isna().any():
                    raise ValueError(
                        f"{name}: a datetime column's bound is an ISO date (2024-03-31), not {bound!r}"
                    )
            elif not isinstance(bound, float):
                raise ValueError(f"{name}: a {self.dtype} column's bound is a number, not {bound!r}")
        return self


class DatasetRules(Section):
    min_rows: int = Field(ge=0)
    min_class_share: float | None = Field(default=None, ge=0, le=1)
    soft: tuple[DatasetCheck, ...] = ()


class Schema(Section):
    dataset: DatasetRules
    columns: dict[str, ColumnRules] = Field(min_length=1)


def load_schema(path: Path) -> Schema:
    """Read and check schema.yaml, saying how to create it when it is missing."""
    raw = read_yaml(path, "run `make schema` to infer one from the data")
    with invalid_values_reported(path):
        return Schema.model_validate(raw)


def plain(value: Any) -> Any:
    """A numpy scalar as the Python number YAML can write, with floats kept short."""
    value = value.item() if hasattr(value, "item") else value
    return round(value, 6) if isinstance(value, float) else value


def infer_dtype(values: pd.Series) -> DType:
    """The loosest kind that every non-null value of a column has."""
    present = values.dropna()
    if pd.api.types.is_bool_dtype(values):
        return "boolean"
    if pd.api.types.is_numeric_dtype(values):
        return "integer" if present.empty or (present % 1 == 0).all() else "number"
    return "datetime" if is_date_column(values) else "string"


def outward(value: float, direction: Callable[[float], int]) -> float:
    """A bound rounded to 6 decimals away from the data (floor for a minimum, ceil for a maximum)."""
    bound = plain(direction(value * 1e6) / 1e6)
    step = 1e-6 if direction is math.ceil else -1e-6
    # float noise (0.3 * 1e6 is 300000.00000000006) may round the wrong way: step once more
    return bound if (bound >= value if step > 0 else bound <= value) else plain(bound + step)


def infer_max_missing(share: float) -> float:
    """A bound on a column's share of missing values: the observed share with headroom, below 1."""

    def hundredths(value: float) -> float:  # rounded up, ignoring float noise
        return math.ceil(round(100 * value, 6)) / 100

    return plain(max(min(hundredths(share + MISSING_MARGIN), MISSING_CEILING), hundredths(share)))


def infer_column(values: pd.Series, is_identifier: bool) -> dict[str, Any]:
    """Rules that the column as it is satisfies: observed range, categories, nulls."""
    dtype = infer_dtype(values)
    missing = float(values.isna().mean()) if len(values) else 0.0
    rules: dict[str, Any] = {"dtype": dtype, "nullable": bool(missing)}
    if missing:
        rules["max_missing"] = infer_max_missing(missing)
    if is_identifier and values.is_unique:
        rules["unique"] = True
    present = values.dropna()
    if dtype in ("integer", "number") and not present.empty:
        if dtype == "integer":
            rules["min"], rules["max"] = int(present.min()), int(present.max())
        else:  # rounded outwards, so that the data passes its own schema
            rules["min"], rules["max"] = (
                outward(float(present.min()), math.floor),
                outward(float(present.max()), math.ceil),
            )
    if dtype == "datetime":  # soft: later data than any seen is news, not an error
        stamps = as_timestamps(present)
        rules.update(min=date_text(stamps.min()), max=date_text(stamps.max()), soft=["min", "max"])
    distinct = present.unique()
    if dtype == "string" and not is_identifier and len(distinct) <= MAX_CATEGORIES:
        rules["allowed"] = sorted(str(value) for value in distinct)
    return rules


def infer_schema(frame: pd.DataFrame, data: DataParams, task: Task) -> dict[str, Any]:
    """A first schema: strict on structure, bounds taken from the data, for a person to review."""
    dataset: dict[str, Any] = {"min_rows": max(1, len(frame) // 2)}
    if task == "classification" and len(frame):
        rarest = frame[data.target].value_counts(normalize=True).min()
        dataset["min_class_share"] = plain(round(rarest / 2, 3))
    dataset["soft"] = []
    columns = {
        str(name): infer_column(frame[name], is_identifier=name in data.drop_columns)
        for name in frame.columns
    }
    return {"dataset": dataset, "columns": columns}


class OneLine(dict):
    """A mapping YAML writes on one line, so that each column's rules read as one row."""


class SchemaDumper(yaml.SafeDumper):
    """Writes OneLine mappings in flow style and everything else in block style."""


SchemaDumper.add_representer(
    OneLine, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)
)


def schema_text(schema: dict[str, Any]) -> str:
    """The schema as commented YAML, one line per column."""
    lined = {**schema, "columns": {name: OneLine(rules) for name, rules in schema["columns"].items()}}
    return HEADER + yaml.dump(lined, Dumper=SchemaDumper, sort_keys=False, allow_unicode=True, width=1000)


def check_inferable(frame: pd.DataFrame, data: DataParams) -> None:
    """Refuse, in one line naming the fix, data that no schema can be inferred from."""
    source = data.source
    if duplicates := duplicate_names(frame):
        named = ", ".join(f"'{name}'" for name in duplicates)
        raise PipelineError(
            f"duplicate column {named} in {source}: give every column its own name, then run `make schema`"
        )
    if data.target not in frame.columns:
        if fix := one_column_fix(frame, data.csv):
            raise PipelineError(
                f"{source} is not {separation(data.csv)} (the whole header is one column): {fix}, "
                "then run `make schema` (`make adopt` detects the separator itself)"
            )
        raise PipelineError(
            f"data.target '{data.target}' is not a column of {source} "
            f"(its columns: {', '.join(map(str, frame.columns))}): set data.target in params.yaml "
            "to the column the model predicts, or restore that column in the data"
        )
    if frame.empty:
        raise PipelineError(f"{source} has no rows with a target: nothing to infer a schema from")
    values = frame[data.target].dropna().unique()
    if len(values) < 2:  # validate refuses such a target whatever the schema says
        rows = "its only row" if len(frame) == 1 else f"all {len(frame)} rows"
        raise PipelineError(
            f"data.target '{data.target}' is {plain(values[0])!r} in {rows} of {source}: a model needs "
            "at least two different target values to learn from"
        )


def main() -> None:
    params = load_params()
    frame = ingest_source(params.data).frame
    check_inferable(frame, params.data)
    inferred = infer_schema(frame, params.data, params.task)
    Schema.model_validate(inferred)
    with atomic_path(params.paths.data_schema) as output:
        output.write_text(schema_text(inferred), encoding="utf-8")
    for name in frame.columns[frame.isna().all()]:
        print(f"schema: warning: {name} has no values, and validate refuses an empty column", file=sys.stderr)
    print(
        f"schema: wrote {params.paths.data_schema} from {len(frame)} rows of {params.data.source}; "
        "review its bounds and categories, then commit it"
    )
