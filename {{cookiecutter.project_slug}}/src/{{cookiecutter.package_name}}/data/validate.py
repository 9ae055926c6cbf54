"""Stage `validate`: check the ingested data against schema.yaml before anything learns from it."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from operator import methodcaller
from typing import Any

import pandas as pd
import pandera.pandas as pa

from ..config import Params, load_params
from ..dates import as_timestamps
from ..errors import PipelineError
from ..model.params_check import check_model_tests
from ..outputs import (
    atomic_paths,
    json_text,
    markdown_code,
    markdown_table,
    markdown_text,
)
from ..tables import file_md5
from .ingest import duplicate_names, rows_without_target
from .reading import one_column_fix, shown, with_written_names
from .schema import ColumnRules, Schema, load_schema

EXAMPLES = 3
# Checks that hold whatever schema.yaml says (data that fails them cannot train a model),
# as the error names what no schema allows.
DATA_ONLY_CHECKS = {
    "duplicate column": "a duplicate column name",
    "empty": "an empty column",
    "min_classes": "a target with one class",
    "constant": "a constant target",
}
# pandera's names for the checks it runs itself, in the schema's own words.
BUILT_IN_CHECKS = {
    "not_nullable": "nullable",
    "field_uniqueness": "unique",
    "column_in_dataframe": "required",
    "column_in_schema": "unexpected",
}


# (column, check number or built-in check) -> (check name, what was expected)
CheckNames = dict[tuple[str, int | str], tuple[str, str]]


@dataclass(frozen=True)
class Failure:
    """One check that some rows (or the table itself) did not pass."""

    column: str
    check: str
    expected: str
    severity: str
    rows: int
    examples: list[str]
    example_rows: list[int]

    def line(self) -> str:
        """The failure in one line, as the command prints it."""
        found = ", ".join(self.examples)
        if self.rows:
            found = f"{self.rows} row{'s' * (self.rows != 1)}" + (f", e.g. {found}" if found else "")
        return f"{self.column}: {self.check} (expected {self.expected})" + (f": {found}" if found else "")


def numbers(values: pd.Series) -> pd.Series:
    """Values as numbers, with text that is not a number as NaN (the dtype check reports it)."""
    return pd.to_numeric(values, errors="coerce")


def dtype_check(dtype: str) -> Callable[[pd.Series], pd.Series] | None:
    """Row-wise test of a column's kind; a string column accepts anything."""
    tests = {
        "integer": lambda values: values.isna() | (numbers(values) % 1 == 0),
        "number": lambda values: values.isna() | numbers(values).notna(),
        "boolean": lambda values: values.isna() | values.isin([True, False]),
        "datetime": lambda values: values.isna() | as_timestamps(values).notna(),
    }
    return tests.get(dtype)


# A rule as a function of a column's values: True for each value that keeps it.
ValueTest = Callable[[pd.Series], pd.Series]


def range_tests(rules: ColumnRules) -> list[tuple[str, str, ValueTest]]:
    """The min and max tests: on numbers, or on timestamps for a datetime column."""
    dated = rules.dtype == "datetime"
    values = as_timestamps if dated else numbers
    tests: list[tuple[str, str, ValueTest]] = []
    for name, bound, sign, beyond in (("min", rules.min, "≥", "lt"), ("max", rules.max, "≤", "gt")):
        if bound is None:
            continue
        limit = as_timestamps(pd.Series([bound])).iloc[0] if dated else bound
        written = bound if dated else f"{bound:g}"
        outside = methodcaller(beyond, limit)
        tests.append((name, f"{sign} {written}", lambda v, out=outside: ~out(values(v))))
    return tests


def column_tests(rules: ColumnRules) -> list[tuple[str, str, ValueTest]]:
    """(check, expectation, test) for each value rule of a column, in order."""
    tests: list[tuple[str, str, ValueTest]] = []
    if test := dtype_check(rules.dtype):
        tests.append(("dtype", rules.dtype, test))
    tests += range_tests(rules)
    if rules.allowed is not None:
        allowed = list(rules.allowed)
        tests.append(("allowed", f"one of {', '.join(allowed)}", lambda v: v.isna() | v.isin(allowed)))
    return tests


def column_checks(rules: ColumnRules) -> list[tuple[str, str, pa.Check]]:
    """(check, expectation, pandera check) for each value rule of a column, in order."""
    return [(name, expected, pa.Check(test)) for name, expected, test in column_tests(rules)]


def build_pandera(schema: Schema) -> tuple[pa.DataFrameSchema, CheckNames]:
    """The pandera schema, and how to name each of its checks in a report."""
    columns, names = {}, CheckNames()
    for column, rules in schema.columns.items():
        checks = column_checks(rules)
        columns[column] = pa.Column(
            nullable=rules.nullable, unique=rules.unique, checks=[c for *_, c in checks]
        )
        for number, (name, expected, _) in enumerate(checks):
            names[(column, number)] = (name, expected)
        names[(column, "nullable")] = ("nullable", "no nulls")
        names[(column, "unique")] = ("unique", "no duplicates")
    return pa.DataFrameSchema(columns, strict=True), names


def severity(schema: Schema, column: str, check: str) -> str:
    """Hard unless the schema lists the check as soft for that column."""
    rules = schema.columns.get(column)
    return "soft" if rules is not None and check in rules.soft else "hard"


def failures_from(errors: pa.errors.SchemaErrors, schema: Schema, names: CheckNames) -> list[Failure]:
    """Group pandera's failure cases into one Failure per column and check."""
    cases = errors.failure_cases.astype({"column": "string", "check_number": "string"})
    cases = cases.fillna({"column": "", "check_number": ""})
    found = []
    for (context, column, check, number), group in cases.groupby(
        ["schema_context", "column", "check", "check_number"], sort=False
    ):
        if context == "DataFrameSchema":
            kind = BUILT_IN_CHECKS.get(check, check)
            expected = "in the data" if kind == "required" else "only the schema's columns"
            for name in group["failure_case"]:
                found.append(Failure(str(name), kind, expected, "hard", 0, [], []))
            continue
        key = BUILT_IN_CHECKS.get(check) or (int(number) if number else check)
        name, expected = names.get((column, key), (check, check))
        rows = group["index"].dropna()
        examples = pd.unique(
            group["failure_case"].map(lambda value: "null" if pd.isna(value) else repr(value))
        )
        found.append(
            Failure(
                column,
                name,
                expected,
                severity(schema, column, name),
                int(rows.nunique()),
                list(examples[:EXAMPLES]),
                [int(row) for row in rows.unique()[:EXAMPLES]],
            )
        )
    return found


def dataset_failures(frame: pd.DataFrame, schema: Schema, params: Params) -> list[Failure]:
    """Checks on the table as a whole: its size, its class balance, a separator other than data.csv's."""
    rules, found = schema.dataset, []
    level = {check: "soft" if check in rules.soft else "hard" for check in ("min_rows", "min_class_share")}
    if len(frame) < rules.min_rows:
        found.append(
            Failure(
                "(table)",
                "min_rows",
                f"≥ {rules.min_rows} rows",
                level["min_rows"],
                0,
                [f"{len(frame)} rows"],
                [],
            )
        )
    target = params.data.target
    if (
        params.task == "classification"
        and rules.min_class_share is not None
        and target in frame
        and len(frame)
    ):
        shares = frame[target].value_counts(normalize=True)
        if shares.min() < rules.min_class_share:
            rarest = f"{shares.index[-1]!r}: {100 * shares.min():.1f}%"
            found.append(
                Failure(
                    target,
                    "min_class_share",
                    f"every class ≥ {100 * rules.min_class_share:.1f}%",
                    level["min_class_share"],
                    0,
                    [rarest],
                    [],
                )
            )
    separator = params.data.csv.separator
    if fix := one_column_fix(frame, params.data.csv):
        expected = (
            "comma-separated columns" if separator == "," else f"columns separated by {shown(separator)}"
        )
        found.append(
            Failure(str(frame.columns[0]), "delimiter", expected, "hard", 0, [f"one column: {fix}"], [])
        )
    return found


def quoted(value: Any) -> str:
    """A value as a report quotes it: 'yes', 250.0 (not numpy's repr)."""
    return repr(value.item() if hasattr(value, "item") else value)


def percent(share: float) -> str:
    return f"{100 * share:.3g}%"


def duplicate_failures(frame: pd.DataFrame) -> list[Failure]:
    """One failure per name that more than one column of the header has."""
    return [
        Failure(
            name,
            "duplicate column",
            "each column name once",
            "hard",
            0,
            [f"{int((frame.columns == name).sum())} columns named '{name}'"],
            [],
        )
        for name in duplicate_names(frame)
    ]


def missing_failures(frame: pd.DataFrame, schema: Schema) -> list[Failure]:
    """Columns with no value at all (always hard), and columns missing more than max_missing allows."""
    found: list[Failure] = []
    if frame.empty:
        return found  # min_rows reports an empty table
    rows = len(frame)
    for column in frame.columns:
        missing = int(frame[column].isna().sum())
        rules = schema.columns.get(str(column))
        if missing == rows:
            found.append(
                Failure(str(column), "empty", "some values", "hard", 0, [f"all {rows:,} rows missing"], [])
            )
        elif rules is not None and rules.max_missing is not None and missing / rows > rules.max_missing:
            found.append(
                Failure(
                    str(column),
                    "max_missing",
                    f"≤ {percent(rules.max_missing)} missing",
                    severity(schema, str(column), "max_missing"),
                    0,
                    [f"{missing:,} of {rows:,} rows missing ({percent(missing / rows)})"],
                    [],
                )
            )
    return found


def target_failures(frame: pd.DataFrame, params: Params) -> list[Failure]:
    """A target no model can learn from: one class, or one value for a regression."""
    target = params.data.target
    if target not in frame.columns or frame.empty:
        return []
    values = frame[target].dropna().unique()
    if len(values) != 1:
        return []  # none at all is an empty column
    value = quoted(values[0])
    if params.task == "classification":
        return [Failure(target, "min_classes", "at least 2 classes", "hard", 0, [f"only {value}"], [])]
    return [Failure(target, "constant", "more than one value", "hard", 0, [f"every row {value}"], [])]


def check_params_against(schema: Schema, params: Params) -> None:
    """The schema must describe the columns params.yaml relies on."""
    named = [params.data.target, *params.data.drop_columns]
    missing = [column for column in named if column not in schema.columns]
    if missing:
        raise PipelineError(
            f"{params.paths.data_schema} has no rules for {', '.join(missing)} (named in params.yaml data): "
            "run `make schema` after changing the data source, review it and commit it"
        )


def check_params_before_training(frame: pd.DataFrame, schema: Schema, params: Params) -> None:
    """Every problem params.yaml's data and model_tests have with this data, at once: the model's
    inputs are the schema's columns (validation holds the data to them), the classes those of the
    data's target. The estimator is train's to check, where it is built."""
    check_params_against(schema, params)
    named = {params.data.target, *params.data.drop_columns}
    inputs = [column for column in schema.columns if column not in named]
    classes = None
    if params.task == "classification" and params.data.target in frame.columns:
        classes = sorted({str(value) for value in frame[params.data.target].dropna().unique()})
    check_model_tests(params, inputs, classes)


def validate(frame: pd.DataFrame, schema: Schema, params: Params) -> list[Failure]:
    """Every failed check, hard and soft."""
    check_params_against(schema, params)
    duplicates = duplicate_failures(frame)
    frame = frame.loc[:, ~frame.columns.duplicated()]
    degenerate = [*target_failures(frame, params), *missing_failures(frame, schema)]
    pandera_schema, names = build_pandera(schema)
    try:
        pandera_schema.validate(frame, lazy=True)
        found = []
    except pa.errors.SchemaErrors as errors:
        found = failures_from(errors, schema, names)
    return [*duplicates, *dataset_failures(frame, schema, params), *degenerate, *found]


def count_checks(schema: Schema) -> int:
    """How many checks validate runs, for the report's headline."""
    per_column = sum(
        3 + rules.unique + (rules.max_missing is not None) + len(column_checks(rules))
        for rules in schema.columns.values()
    )  # each column is also required, nullable or not, and not empty
    # min_rows, duplicate names, the target's classes (or values), and the class balance
    return per_column + 3 + (schema.dataset.min_class_share is not None)


def verdict(failures: list[Failure], checks: int, rows: int) -> str:
    """The report's first line: what a reviewer needs to know at a glance."""
    hard = sum(failure.severity == "hard" for failure in failures)
    soft = len(failures) - hard
    size = f"{rows:,} rows"
    if hard:
        warned = f", {soft} soft check{'s' * (soft != 1)} warned" if soft else ""
        return f"❌ {hard} hard check{'s' * (hard != 1)} failed{warned} ({size})"
    if soft:
        return f"⚠️ all hard checks passed, {soft} soft check{'s' * (soft != 1)} warned ({size})"
    return f"✅ all {checks} checks passed ({size})"


def dropped_note(dropped: int | None, params: Params) -> str:
    """How many rows ingest dropped for a missing target, when it dropped any."""
    if not dropped:
        return ""
    target = markdown_code(params.data.target)
    return f"{dropped:,} row{'s' * (dropped != 1)} without a target ({target}) dropped by ingest"


def summary(failures: list[Failure], headline: str, note: str = "") -> str:
    """The markdown a pull request comment includes as it is."""
    if note:
        headline = f"{headline}\n\n{note}."
    if not failures:
        return headline + "\n"
    rows = [
        [
            "❌ hard" if failure.severity == "hard" else "⚠️ soft",
            markdown_code(failure.column),
            markdown_text(failure.check),
            markdown_text(failure.expected),
            str(failure.rows) if failure.rows else "-",
            ", ".join(markdown_code(example) for example in failure.examples),
        ]
        for failure in failures
    ]
    table = markdown_table(["", "column", "check", "expected", "failing rows", "examples"], rows)
    return f"{headline}\n\n{table}"


def read_ingested(params: Params) -> pd.DataFrame:
    """The ingested table under its header's names (duplicates too); an empty file is an empty table."""
    try:
        raw = params.paths.ingested.read_bytes()
    except FileNotFoundError as error:
        raise PipelineError(f"no {params.paths.ingested}: run the ingest stage first") from error
    try:
        return with_written_names(pd.read_csv(io.BytesIO(raw)), raw)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def report(
    frame: pd.DataFrame, failures: list[Failure], schema: Schema, params: Params, dropped: int | None = None
) -> dict[str, Any]:
    """What validation.json records: the verdict, the data it judged (by hash) and every failure."""
    checks = count_checks(schema)
    return {
        "passed": all(failure.severity == "soft" for failure in failures),
        "verdict": verdict(failures, checks, len(frame)),
        "rows": len(frame),
        "columns": frame.shape[1],
        "checks": checks,
        "data_md5": file_md5(params.paths.ingested),
        "rows_without_target": dropped,
        "failures": [asdict(failure) for failure in failures],
    }


def hard_failure_message(hard: list[Failure], params: Params, shown: int = 12) -> str:
    """The error the command ends with: each failed column and check, and what to do."""
    listed = "\n".join(f"  {failure.line()}" for failure in hard[:shown])
    more = f"\n  ... and {len(hard) - shown} more" if len(hard) > shown else ""
    in_the_data = [name for check, name in DATA_ONLY_CHECKS.items() if any(f.check == check for f in hard)]
    data_fix = (
        f"\nNo schema allows {' or '.join(in_the_data)}: fix the data ({params.data.source})."
        if in_the_data
        else ""
    )
    return (
        f"{len(hard)} hard check{'s' * (len(hard) != 1)} failed on {params.paths.ingested} "
        f"(details in {params.paths.validation_summary}):\n{listed}{more}\n"
        f"If the data changed on purpose, update {params.paths.data_schema} (`make schema` infers one) "
        f"and commit it.{data_fix}"
    )


def main() -> None:
    params = load_params()
    schema = load_schema(params.paths.data_schema)
    frame = read_ingested(params)
    failures = validate(frame, schema, params)
    dropped = rows_without_target(params.paths.ingested, params.paths.ingest_counts)
    result = report(frame, failures, schema, params, dropped)
    note = dropped_note(dropped, params)
    with atomic_paths(params.paths.validation, params.paths.validation_summary) as (json_out, markdown_out):
        json_out.write_text(json_text(result), encoding="utf-8")
        markdown_out.write_text(summary(failures, result["verdict"], note), encoding="utf-8")
    for failure in failures:
        if failure.severity == "soft":
            print(f"validate: warning: {failure.line()}", file=sys.stderr)
    hard = [failure for failure in failures if failure.severity == "hard"]
    if hard:
        raise PipelineError(hard_failure_message(hard, params))
    # Only data that passed can say whether params.yaml fits it (its classes, its columns).
    check_params_before_training(frame, schema, params)
    print(f"validate: {result['verdict'].split(' ', 1)[1]}" + (f"; {note}" if note else ""))
