import json

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data.schema import Schema, infer_schema
from {{ cookiecutter.package_name }}.data.validate import (
    hard_failure_message,
    main,
    summary,
    validate,
    verdict,
)
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.tables import file_md5, read_validated

from ..conftest import make_params, synthetic_frame


@pytest.fixture
def schema(frame, params) -> Schema:
    return Schema.model_validate(infer_schema(frame, params.data, params.task))


def corrupted(frame: pd.DataFrame, corruption: str) -> pd.DataFrame:
    broken = frame.copy()
    if corruption == "missing column":
        return broken.drop(columns=["count"])
    if corruption == "wrong dtype":
        broken["count"] = broken["count"].astype(object)
        broken.loc[4, "count"] = "seven"
    elif corruption == "out of range":
        broken.loc[4, "size"] = 1e6
    elif corruption == "null":
        broken.loc[4, "count"] = np.nan
    elif corruption == "unseen category":
        broken.loc[4, "colour"] = "purple"
    elif corruption == "duplicate id":
        broken.loc[4, "row_id"] = broken.loc[3, "row_id"]
    elif corruption == "extra column":
        broken["leak"] = 1
    return broken


@pytest.mark.parametrize(
    ("corruption", "column", "check", "example"),
    [
        ("missing column", "count", "required", None),
        ("wrong dtype", "count", "dtype", "'seven'"),
        ("out of range", "size", "max", "1000000.0"),
        ("null", "count", "nullable", "null"),
        ("unseen category", "colour", "allowed", "'purple'"),
        ("duplicate id", "row_id", "unique", "3"),
        ("extra column", "leak", "unexpected", None),
    ],
)
def test_each_corruption_is_one_hard_failure_naming_column_and_check(
    frame, schema, params, corruption, column, check, example
):
    failures = validate(corrupted(frame, corruption), schema, params)

    assert [(f.column, f.check, f.severity) for f in failures] == [(column, check, "hard")]
    assert failures[0].examples[:1] == ([example] if example else [])


def test_a_soft_check_only_warns(frame, schema, params):
    soft = schema.model_copy(
        update={
            "columns": {
                **schema.columns,
                "size": schema.columns["size"].model_copy(update={"soft": ("max",)}),
            }
        }
    )

    failures = validate(corrupted(frame, "out of range"), soft, params)

    assert [(f.column, f.check, f.severity, f.rows) for f in failures] == [("size", "max", "soft", 1)]
    assert verdict(failures, 20, len(frame)).startswith("⚠️ all hard checks passed, 1 soft check warned")


def test_too_few_rows_and_a_semicolon_file_are_table_failures(schema, params, tmp_path):
    semicolons = pd.DataFrame({"row_id;size;count;colour;target": ["1;2.0;3;red;high"]})

    failures = validate(semicolons, schema, params)
    checks = {(f.column, f.check) for f in failures}

    assert ("(table)", "min_rows") in checks
    assert ("row_id;size;count;colour;target", "delimiter") in checks
    assert ("target", "required") in checks
    delimiter = next(f for f in failures if f.check == "delimiter")
    assert delimiter.examples == ['one column: set data.csv.separator: ";" in params.yaml']


def test_a_rare_class_fails_the_class_balance(tmp_path):
    frame, params = synthetic_frame("classification"), make_params("classification", tmp_path)
    schema = Schema.model_validate(infer_schema(frame, params.data, params.task))
    rare = frame.assign(target=np.where(np.arange(len(frame)) < 3, "high", "low"))

    failures = validate(rare, schema, params)

    assert [(f.column, f.check) for f in failures] == [("target", "min_class_share")]
    assert failures[0].examples == ["'high': 1.9%"]


def test_params_naming_a_column_the_schema_lacks_says_to_run_make_schema(frame, schema, params):
    renamed = params.model_copy(update={"data": params.data.model_copy(update={"target": "label"})})

    with pytest.raises(PipelineError, match=r"no rules for label .* run `make schema`"):
        validate(frame, schema, renamed)


def test_the_summary_starts_with_the_verdict_then_a_table(frame, schema, params):
    failures = validate(corrupted(frame, "unseen category"), schema, params)

    lines = summary(failures, verdict(failures, 20, len(frame))).splitlines()

    assert lines[0] == "❌ 1 hard check failed (160 rows)"
    assert lines[2].startswith("|  | column | check | expected | failing rows | examples |")
    assert lines[4].startswith("| ❌ hard | `colour` | allowed | one of blue, green, red | 1 | `'purple'` |")


def write_report(params, frame, passed: bool) -> None:
    params.paths.ingested.parent.mkdir(parents=True)
    frame.to_csv(params.paths.ingested, index=False)
    params.paths.validation.parent.mkdir(parents=True)
    report = {"passed": passed, "data_md5": file_md5(params.paths.ingested)}
    params.paths.validation.write_text(json.dumps(report))


def test_split_reads_only_data_that_passed_validation(frame, params):
    write_report(params, frame, passed=True)

    assert len(read_validated(params.paths)) == len(frame)


def test_split_refuses_data_that_failed_validation(frame, params):
    write_report(params, frame, passed=False)

    with pytest.raises(PipelineError, match=r"failed validation: see .*validation\.md"):
        read_validated(params.paths)


def test_split_refuses_data_changed_after_validation(frame, params):
    write_report(params, frame, passed=True)
    frame.head(10).to_csv(params.paths.ingested, index=False)

    with pytest.raises(PipelineError, match="changed after it was validated"):
        read_validated(params.paths)


def checks_of(failures) -> list[tuple[str, str, str]]:
    return [(f.column, f.check, f.severity) for f in failures]


def test_an_empty_column_is_always_refused_naming_it(frame, schema, params):
    emptied = frame.assign(size=np.nan)

    failures = validate(emptied, schema, params)

    assert checks_of(failures) == [("size", "empty", "hard")]
    assert failures[0].line() == f"size: empty (expected some values): all {len(frame)} rows missing"


def test_an_empty_column_the_schema_calls_soft_is_still_hard(frame, schema, params):
    rules = schema.columns["size"].model_copy(update={"soft": ("nullable", "max_missing")})
    soft = schema.model_copy(update={"columns": {**schema.columns, "size": rules}})

    assert checks_of(validate(frame.assign(size=np.nan), soft, params)) == [("size", "empty", "hard")]


def test_too_many_missing_values_fail_max_missing(frame, schema, params):
    bound = schema.columns["size"].max_missing
    gappy = frame.copy()
    gappy.loc[: len(frame) // 2, "size"] = np.nan

    failures = validate(gappy, schema, params)

    assert checks_of(failures) == [("size", "max_missing", "hard")]
    assert failures[0].expected == f"≤ {100 * bound:.3g}% missing"
    assert failures[0].examples[0].startswith(f"{gappy['size'].isna().sum()} of {len(frame)} rows missing (")


def test_max_missing_can_be_soft(frame, schema, params):
    rules = schema.columns["size"].model_copy(update={"soft": ("max_missing",)})
    soft = schema.model_copy(update={"columns": {**schema.columns, "size": rules}})
    gappy = frame.copy()
    gappy.loc[: len(frame) // 2, "size"] = np.nan

    assert checks_of(validate(gappy, soft, params)) == [("size", "max_missing", "soft")]


def test_a_duplicate_column_is_named_as_such(frame, schema, params):
    doubled = frame.set_axis(["row_id", "size", "size", "colour", "target"], axis="columns")

    failures = validate(doubled, schema, params)

    assert checks_of(failures) == [("size", "duplicate column", "hard"), ("count", "required", "hard")]
    assert "2 columns named 'size'" in failures[0].line()


def test_a_single_class_target_is_refused(tmp_path):
    frame, params = synthetic_frame("classification"), make_params("classification", tmp_path)
    schema = Schema.model_validate(infer_schema(frame, params.data, params.task))

    failures = validate(frame.assign(target="low"), schema, params)

    assert checks_of(failures) == [("target", "min_classes", "hard")]
    assert failures[0].line() == "target: min_classes (expected at least 2 classes): only 'low'"


def test_a_constant_regression_target_is_refused(tmp_path):
    frame, params = synthetic_frame("regression"), make_params("regression", tmp_path)
    schema = Schema.model_validate(infer_schema(frame, params.data, params.task))

    failures = validate(frame.assign(target=2.5), schema, params)

    assert checks_of(failures) == [("target", "constant", "hard")]
    assert failures[0].line() == "target: constant (expected more than one value): every row 2.5"


def test_the_error_says_a_degenerate_column_is_fixed_in_the_data(frame, schema, params):
    failures = validate(frame.assign(size=np.nan), schema, params)

    message = hard_failure_message(failures, params)

    assert "size: empty" in message
    assert message.endswith(f"No schema allows an empty column: fix the data ({params.data.source}).")


def test_validate_reports_duplicates_from_the_file_and_the_rows_ingest_dropped(
    frame, schema, params, monkeypatch
):
    from {{ cookiecutter.package_name }}.data.schema import schema_text

    params.paths.data_schema.write_text(schema_text(infer_schema(frame, params.data, params.task)))
    params.paths.ingested.parent.mkdir(parents=True)
    frame.to_csv(params.paths.ingested, index=False, header=["row_id", "size", "size", "colour", "target"])
    record = {"without_target": 4, "data_md5": file_md5(params.paths.ingested)}
    params.paths.ingest_counts.write_text(json.dumps(record))
    monkeypatch.setattr("{{ cookiecutter.package_name }}.data.validate.load_params", lambda: params)

    with pytest.raises(PipelineError, match=r"size: duplicate column .*2 columns named 'size'"):
        main()

    report = json.loads(params.paths.validation.read_text())
    assert report["rows_without_target"] == 4
    markdown = params.paths.validation_summary.read_text()
    assert "\n\n4 rows without a target (`target`) dropped by ingest.\n" in markdown
