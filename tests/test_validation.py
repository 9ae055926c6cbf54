"""In a baked project, bad data stops at `validate` and a worse model fails `make test-model`."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from .conftest import PACKAGE, copy_project, run
from .test_pipeline import metrics, ran_stages, set_params

pytestmark = pytest.mark.slow

SAMPLE = Path("data") / "raw" / "customers.csv"


def drop_contract(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["contract"])


def set_cell(column: str, value: object, row: int = 3) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def corrupt(frame: pd.DataFrame) -> pd.DataFrame:
        frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value
        return frame

    return corrupt


def duplicate_id(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[11, "customer_id"] = frame.loc[10, "customer_id"]
    return frame


# corruption -> (change to the sample, how it is written, what the error must say)
CORRUPTIONS = {
    "missing column": (drop_contract, ",", "contract: required (expected in the data)"),
    "wrong dtype": (set_cell("tenure_months", "twelve"), ",", "tenure_months: dtype (expected integer)"),
    "out of range": (set_cell("support_calls", 99), ",", "support_calls: max (expected ≤ 8): 1 row, e.g. 99"),
    "null where none is allowed": (set_cell("contract", None), ",", "contract: nullable (expected no nulls)"),
    "unseen category": (set_cell("internet_service", "satellite"), ",", "internet_service: allowed"),
    "empty file": (None, ",", "(table): min_rows (expected ≥ 1000 rows): 0 rows"),
    "wrong delimiter": (lambda frame: frame, ";", "delimiter (expected comma-separated columns)"),
    "duplicated ids": (duplicate_id, ",", "customer_id: unique (expected no duplicates): 2 rows"),
}


def write_sample(project: Path, original: str, change, delimiter: str) -> None:
    """Overwrite the bundled sample with a corrupted version of its original text."""
    if change is None:
        (project / SAMPLE).write_text("")
        return
    frame = change(pd.read_csv(io.StringIO(original)))
    frame.to_csv(project / SAMPLE, index=False, sep=delimiter)


@pytest.fixture(scope="module")
def corruptible(ready_project, tmp_path_factory) -> tuple[Path, str]:
    """One private copy of the classification project, shared by the corruption cases."""
    project = copy_project(ready_project("classification"), tmp_path_factory.mktemp("corrupt"))
    return project, (project / SAMPLE).read_text()


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_a_corrupted_sample_fails_validate_naming_column_and_check(corruptible, corruption):
    project, original = corruptible
    change, delimiter, message = CORRUPTIONS[corruption]
    write_sample(project, original, change, delimiter)

    run("uv", "run", "python", "-m", PACKAGE, "ingest", cwd=project)
    result = run("uv", "run", "python", "-m", PACKAGE, "validate", cwd=project, check=False)

    assert result.returncode == 1
    assert result.stderr.startswith("validate: error: ")
    assert message in result.stderr
    report = json.loads((project / "reports" / "validation.json").read_text())
    assert report["passed"] is False
    assert (project / "reports" / "validation.md").read_text().startswith("❌ ")


def test_the_pipeline_stops_at_validate_and_keeps_the_last_good_model(ready_project, tmp_path):
    project = copy_project(ready_project("classification"), tmp_path)
    model_before = (project / "models" / "model.skops").read_bytes()
    metrics_before = metrics(project)
    original = (project / SAMPLE).read_text()
    write_sample(project, original, set_cell("contract", "weekly"), ",")

    result = run("make", "pipeline", cwd=project, check=False)

    assert result.returncode != 0
    assert ran_stages(result.stdout) == ["ingest", "validate"]
    assert "validate: error: 1 hard check failed" in result.stderr
    assert "contract: allowed (expected one of month-to-month, one-year, two-year): 1 row, e.g. 'weekly'" in (
        result.stderr
    )
    assert (project / "models" / "model.skops").read_bytes() == model_before
    assert metrics(project) == metrics_before


def test_a_soft_check_warns_and_the_pipeline_goes_on(ready_project, tmp_path):
    project = copy_project(ready_project("classification"), tmp_path)
    original = (project / SAMPLE).read_text()
    write_sample(project, original, set_cell("monthly_charges", 150.0), ",")

    result = run("make", "pipeline", cwd=project)

    assert "validate: warning: monthly_charges: max (expected ≤ 121.41): 1 row, e.g. 150.0" in result.stderr
    assert ran_stages(result.stdout)[:3] == ["ingest", "validate", "split"]  # train only if its rows changed
    assert "evaluate" in ran_stages(result.stdout)
    summary = (project / "reports" / "validation.md").read_text()
    assert summary.startswith("⚠️ all hard checks passed, 1 soft check warned")
    assert "| ⚠️ soft | `monthly_charges` | max |" in summary


def test_the_default_model_passes_and_a_weakened_one_fails_gate_and_regression(ready_project, tmp_path):
    project = copy_project(ready_project("classification"), tmp_path)
    run("git", "add", "--all", cwd=project)
    run("git", "commit", "--quiet", "--no-verify", "-m", "Train the first model", cwd=project)
    base_score = metrics(project)["balanced_accuracy"]

    passing = run("make", "test-model", cwd=project)

    assert "model-tests: all " in passing.stdout
    report = json.loads((project / "reports" / "model_tests.json").read_text())
    assert report["passed"] is True
    assert {test["status"] for test in report["tests"]} == {"passed"}
    assert "ms per batch of 1,000" in passing.stdout
    latency = json.loads((project / "reports" / "latency.json").read_text())
    assert set(latency) == {"per_row", "per_batch_of_1000"}

    run("git", "switch", "--quiet", "-c", "weaker-model", cwd=project)
    set_params(project, **{"model.hyperparameters.n_estimators": 1, "model.hyperparameters.max_depth": 1})
    run("make", "pipeline", cwd=project)
    weak_score = metrics(project)["balanced_accuracy"]
    failing = run("make", "test-model", cwd=project, check=False)

    assert failing.returncode != 0
    assert f"gate balanced_accuracy: {weak_score:.4g} < 0.6 (minimum in params.yaml)" in failing.stderr
    assert (
        f"no regression balanced_accuracy: {weak_score:.4g} here, {base_score:.4g} on main (tolerance 2%)"
        in failing.stderr
    )
    assert (project / "reports" / "model_tests.md").read_text().startswith("❌ ")


def blank_target_rows(frame: pd.DataFrame, rows: int = 5) -> pd.DataFrame:
    frame.loc[: rows - 1, "churned"] = None
    return frame


# degenerate data -> (change to the sample, what the error must say, what validation.md must show)
DEGENERATE = {
    "empty column, and rows without a target": (
        lambda frame: blank_target_rows(frame.assign(age=None)),
        "age: empty (expected some values): all 1,995 rows missing",
        "5 rows without a target (`churned`) dropped by ingest.",
    ),
    "too many missing values": (
        set_cell("region", None, row=slice(0, 999)),
        "region: max_missing (expected ≤ 15% missing): ",
        r"| ❌ hard | `region` | max\_missing |",  # escaped markdown: it reads max_missing
    ),
    "duplicate column name": (
        lambda frame: frame.rename(columns={"age": "tenure_months"}),
        "tenure_months: duplicate column (expected each column name once): 2 columns named 'tenure_months'",
        "| ❌ hard | `tenure_months` | duplicate column |",
    ),
    "one class": (
        lambda frame: frame.assign(churned="no"),
        "churned: min_classes (expected at least 2 classes): only 'no'",
        r"| ❌ hard | `churned` | min\_classes |",
    ),
}


@pytest.fixture(scope="module")
def degradable(ready_project, tmp_path_factory) -> tuple[Path, str, bytes]:
    """One private copy of the classification project, fed one degenerate sample after another."""
    project = copy_project(ready_project("classification"), tmp_path_factory.mktemp("degenerate"))
    return project, (project / SAMPLE).read_text(), (project / "models" / "model.skops").read_bytes()


def assert_stopped_at_validate(project: Path, result, message: str, model_before: bytes) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" not in output
    assert ran_stages(result.stdout) == ["ingest", "validate"]
    assert "validate: error: " in result.stderr
    assert message in result.stderr
    assert (project / "models" / "model.skops").read_bytes() == model_before


@pytest.mark.parametrize("case", list(DEGENERATE))
def test_degenerate_data_stops_the_pipeline_at_validate_and_keeps_the_model(degradable, case):
    project, original, model_before = degradable
    change, message, shown = DEGENERATE[case]
    write_sample(project, original, change, ",")

    result = run("make", "pipeline", cwd=project, check=False)

    assert_stopped_at_validate(project, result, message, model_before)
    summary = (project / "reports" / "validation.md").read_text()
    assert summary.startswith("❌ ")
    assert shown in summary


def test_rows_without_a_target_are_counted_by_ingest(degradable):
    project, original, _ = degradable
    write_sample(project, original, blank_target_rows, ",")

    result = run("uv", "run", "python", "-m", PACKAGE, "ingest", cwd=project)

    assert result.stdout.startswith("ingest: 1995 rows, 10 columns from data/raw/customers.csv; ")
    assert "dropped 5 rows without a target (churned)" in result.stdout


# bad data for `make schema` -> (change to the sample, how it is written, what the error must say)
UNINFERABLE = {
    "no target column": (
        lambda frame: frame.drop(columns=["churned"]),
        ",",
        "schema: error: data.target 'churned' is not a column of data/raw/customers.csv",
    ),
    "semicolons": (lambda frame: frame, ";", "schema: error: data/raw/customers.csv is not comma-separated"),
    "duplicate column name": (
        lambda frame: frame.rename(columns={"age": "tenure_months"}),
        ",",
        "schema: error: duplicate column 'tenure_months' in data/raw/customers.csv",
    ),
}


@pytest.mark.parametrize("case", list(UNINFERABLE))
def test_make_schema_names_the_problem_without_a_traceback(degradable, case):
    project, original, _ = degradable
    schema_before = (project / "schema.yaml").read_text()
    change, delimiter, message = UNINFERABLE[case]
    write_sample(project, original, change, delimiter)

    result = run("make", "schema", cwd=project, check=False)

    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert (project / "schema.yaml").read_text() == schema_before


def test_a_constant_regression_target_stops_the_pipeline_at_validate(ready_project, tmp_path):
    project = copy_project(ready_project("regression"), tmp_path)
    model_before = (project / "models" / "model.skops").read_bytes()
    sample = project / "data" / "raw" / "houses.csv"
    pd.read_csv(sample).assign(price_k=250.0).to_csv(sample, index=False)

    result = run("make", "pipeline", cwd=project, check=False)

    message = "price_k: constant (expected more than one value): every row 250.0"
    assert_stopped_at_validate(project, result, message, model_before)
