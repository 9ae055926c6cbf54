"""Rows checked against schema.yaml before any model sees them, with validate's own rules."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa

from ..data.schema import ColumnRules, Schema
from ..data.validate import (
    BUILT_IN_CHECKS,
    CheckNames,
    Failure,
    ValueTest,
    column_tests,
    failures_from,
    severity,
)

SCALARS = (str, int, float, bool, type(None))


class InvalidRequestError(ValueError):
    """Something the caller got wrong; the message names the column and the rule."""

    def __init__(self, message: str, failures: Iterable[Failure] = ()):
        super().__init__(message)
        self.failures = list(failures)


@dataclass(frozen=True)
class Verdict:
    """What the checks found in some rows."""

    hard: list[Failure] = field(default_factory=list)
    soft: list[Failure] = field(default_factory=list)
    bad_rows: dict[int, list[str]] = field(default_factory=dict)  # row (index label) -> rules broken
    refused: bool = False  # a problem of the whole table (a missing or unknown column)

    @property
    def passed(self) -> bool:
        return not self.hard

    def message(self, shown: int = 6) -> str:
        """The one-line error a caller reads: each failed column and rule."""
        lines = [failure.line() for failure in self.hard[:shown]]
        more = f"; and {len(self.hard) - shown} more" if len(self.hard) > shown else ""
        count = len(self.hard)
        return f"{count} schema check{'s' * (count != 1)} failed: " + "; ".join(lines) + more


def records_frame(records: Iterable[dict], max_rows: int) -> pd.DataFrame:
    """A table from JSON records; anything but a list of flat objects is refused."""
    rows = list(records)
    if not rows:
        raise InvalidRequestError("empty: the request holds no rows")
    if len(rows) > max_rows:
        raise InvalidRequestError(f"too many rows: {len(rows)} (serving.max_rows allows {max_rows})")
    for number, row in enumerate(rows):
        if not isinstance(row, dict):
            raise InvalidRequestError(
                f"row {number}: expected an object of column values, got {type(row).__name__}"
            )
        for column, value in row.items():
            if not isinstance(value, SCALARS):
                raise InvalidRequestError(f"{column}: dtype (expected a single value) in row {number}")
    return pd.DataFrame.from_records(rows)


class RequestChecks:
    """schema.yaml's column rules for rows to score: the model's features, optionally its identifiers.

    The target, if sent, is ignored; uniqueness is a property of a dataset, not of a request.
    """

    def __init__(self, schema: Schema, features: Iterable[str], identifiers: Iterable[str], target: str):
        self.schema = schema
        self.features = tuple(dict.fromkeys(features))
        self.target = target
        accepted = {name: True for name in self.features} | {
            name: False for name in identifiers if name not in self.features
        }
        columns, self.names = {}, CheckNames()
        self.tests: dict[str, tuple[bool, list[ValueTest]]] = {}  # column -> nullable, its value tests
        for name, required in accepted.items():
            rules = schema.columns.get(name, ColumnRules(dtype="string", nullable=True))
            tests = column_tests(rules)
            columns[name] = pa.Column(
                nullable=rules.nullable, required=required, checks=[pa.Check(test) for *_, test in tests]
            )
            for number, (check, expected, _) in enumerate(tests):
                self.names[(name, number)] = (check, expected)
            self.names[(name, "nullable")] = ("nullable", "no nulls")
            self.tests[name] = (rules.nullable, [test for *_, test in tests])
        self.pandera = pa.DataFrameSchema(columns, strict=True)
        self.accepted = tuple(accepted)
        self.required = frozenset(name for name, required in accepted.items() if required)

    def without_target(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame.drop(columns=[self.target]) if self.target in frame.columns else frame

    def check(self, frame: pd.DataFrame) -> Verdict:
        """Every rule each row breaks; hard failures refuse their rows, soft ones only count."""
        frame = self.without_target(frame)
        if self.all_kept(frame):
            return Verdict()
        try:
            self.pandera.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as errors:
            failures = failures_from(errors, self.schema, self.names)
            return Verdict(
                hard=[failure for failure in failures if failure.severity == "hard"],
                soft=[failure for failure in failures if failure.severity == "soft"],
                bad_rows=self.hard_rows(errors.failure_cases),
                refused=(errors.failure_cases["schema_context"] == "DataFrameSchema").any(),
            )
        return Verdict()

    def all_kept(self, frame: pd.DataFrame) -> bool:
        """Whether every value keeps every rule: the usual answer, found by the same tests without
        pandera's bookkeeping (a few milliseconds a request). Only a frame that breaks a rule goes
        to pandera, which says which rows and rules; a soft rule broken goes too, to be counted."""
        present = set(frame.columns)
        if not self.required <= present or not present <= set(self.accepted):
            return False
        for name in present:  # every test keeps a missing value: nullable is a rule of its own
            nullable, tests = self.tests[name]
            values = frame[name]
            if not nullable and values.hasnans:
                return False
            if not all(test(values).all() for test in tests):
                return False
        return True

    def hard_rows(self, cases: pd.DataFrame) -> dict[int, list[str]]:
        """The rows (index labels) that break a hard rule, and which rules each breaks."""
        bad: dict[int, list[str]] = {}
        for case in cases[cases["schema_context"] == "Column"].itertuples():
            if pd.isna(case.index):
                continue
            number = case.check_number
            key = BUILT_IN_CHECKS.get(case.check) or (int(number) if pd.notna(number) else case.check)
            name, expected = self.names.get((case.column, key), (case.check, case.check))
            if severity(self.schema, case.column, name) == "hard":
                bad.setdefault(int(case.index), []).append(f"{case.column}: {name} (expected {expected})")
        return bad

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Checked rows in the types training saw: numbers as floats, text (dates too: the model
        reads ISO text) as objects with NaN gaps."""
        frame = self.without_target(frame)
        return pd.DataFrame(
            {name: self.as_trained(str(name), values) for name, values in frame.items()}, index=frame.index
        )

    def as_trained(self, name: str, values: pd.Series) -> pd.Series:
        """One column in training's type; a column already in it is kept as it is (a request's
        columns are a handful of rows, where each pandas call costs more than the data)."""
        rules = self.schema.columns.get(name)
        kind = rules.dtype if rules is not None else None
        if kind in ("integer", "number") and not pd.api.types.is_numeric_dtype(values):
            return pd.to_numeric(values, errors="coerce")
        if kind in ("string", "datetime"):
            values = values.astype(object)
            return values.where(values.notna(), np.nan) if values.hasnans else values
        return values
