import json

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.dataset import file_md5, read_validated
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.schema import Schema, infer_schema
from {{ cookiecutter.package_name }}.validate import summary, validate, verdict

from .conftest import make_params, synthetic_frame


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

    checks = {(f.column, f.check) for f in validate(semicolons, schema, params)}

    assert ("(table)", "min_rows") in checks
    assert ("row_id;size;count;colour;target", "delimiter") in checks
    assert ("target", "required") in checks


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
