import json
import subprocess
import sys
from html.parser import HTMLParser
from urllib.parse import urlparse

import pytest

from {{ cookiecutter.package_name }}.checks.batches import shift
from {{ cookiecutter.package_name }}.checks.drift import (
    REFERENCE_DATA,
    REFERENCE_REVISION,
    compare,
    pull_request_drift,
    write_reports,
)
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.model.train import train
from {{ cookiecutter.package_name }}.tables import features_and_target

from ..conftest import TASKS, make_params, synthetic_frame

ROWS = 2000
SHIFTED = ["size", "colour"]  # one numeric and one categorical column


class ExternalResources(HTMLParser):
    """Collect the src/href of script and link tags that point at another host."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in {"script", "link"}:
            return
        for name, value in attrs:
            if name in {"src", "href"} and value and urlparse(value).netloc:
                self.found.append(value)


@pytest.fixture(scope="module")
def drift_runs(tmp_path_factory):
    """For each task: a model fitted on a reference, and Evidently's verdict on a shifted and a stable table.

    Evidently takes seconds to import and run, so each comparison is made once per module.
    """
    runs = {}
    for task in TASKS:
        root = tmp_path_factory.mktemp(task)
        params = make_params(task, root)
        reference = synthetic_frame(task, rows=ROWS, seed=0)
        stable = synthetic_frame(task, rows=ROWS, seed=1)
        shifted = shift(stable, *SHIFTED, seed=2)
        model = train(*features_and_target(reference, params.data), params)
        runs[task] = {
            "params": params,
            "model": model,
            "reference": reference,
            "shifted": compare(reference, shifted, model, params, ("reference.csv", "shifted.csv")),
            "stable": compare(reference, stable, model, params, ("reference.csv", "stable.csv")),
        }
    return runs


@pytest.fixture
def run(drift_runs, task):
    return drift_runs[task]


def written(run, case, directory):
    summary, snapshot = run[case]
    write_reports(directory, summary, snapshot)
    return (
        json.loads((directory / "drift.json").read_text()),
        (directory / "drift.md").read_text(),
        (directory / "drift.html").read_text(),
    )


def flagged_rows(markdown: str) -> list[str]:
    """The first cell of every table row marked as drifted."""
    return [line.split("|")[1].strip() for line in markdown.splitlines() if line.endswith("| ⚠️ yes |")]


def test_a_shifted_numeric_and_categorical_column_are_the_only_ones_reported(run, tmp_path):
    report, markdown, _ = written(run, "shifted", tmp_path)

    assert report["drifted_columns"] == SHIFTED
    columns = {column["column"]: column for column in report["columns"]}
    assert [column["column"] for column in report["columns"] if column["drifted"]] == SHIFTED
    # At 2000 rows a table's sampling noise stays under params.yaml's threshold, which therefore holds.
    assert 0 < columns["size"]["noise_floor"] < 0.1
    assert columns["size"] | {"score": 0, "noise_floor": 0} == {
        "column": "size",
        "type": "numerical",
        "method": "wasserstein",
        "score": 0,
        "threshold": 0.1,
        "threshold_source": "params",
        "noise_floor": 0,
        "drifted": True,
    }
    assert columns["colour"]["method"] == "jensenshannon"
    assert report["dataset_drift"] is True
    assert report["drift_detected"] is True
    verdict = markdown.splitlines()[0]
    assert verdict == "⚠️ drift in 2 of 4 columns (`size`, `colour`)" + (
        "; predictions drifted" if report["prediction_drift"]["drifted"] else ""
    )
    columns_flagged = [row for row in flagged_rows(markdown) if "(model)" not in row]
    assert columns_flagged == ["`size`", "`colour`"]


def test_the_drifted_columns_come_first_in_the_table(run, tmp_path):
    _, markdown, _ = written(run, "shifted", tmp_path)

    table = [line for line in markdown.splitlines() if line.startswith("| `")]
    columns = [row.split("|")[1].strip() for row in table if "(model)" not in row]
    assert columns[:2] == ["`size`", "`colour`"]
    assert set(columns[2:]) == {"`count`", "`target`"}


def test_unshifted_data_from_the_same_distribution_is_not_flagged(run, tmp_path):
    report, markdown, _ = written(run, "stable", tmp_path)

    assert report["drifted_columns"] == []
    assert report["dataset_drift"] is False
    assert report["prediction_drift"]["drifted"] is False
    assert report["drift_detected"] is False
    assert markdown.splitlines()[0] == "✅ no drift: 0 of 4 columns drifted"
    assert flagged_rows(markdown) == []


def test_predictions_are_compared_by_the_tasks_column_type(run):
    summary, _ = run["stable"]

    assert summary.prediction.column == "predicted_target"
    expected = "categorical" if run["params"].task == "classification" else "numerical"
    assert summary.prediction.kind == expected


def test_the_html_report_loads_nothing_from_the_network(run, tmp_path):
    _, _, page = written(run, "shifted", tmp_path)

    parser = ExternalResources()
    parser.feed(page)
    assert parser.found == []
    assert "<script" in page  # Evidently's renderer is inlined, not fetched
    assert "@import url(http" not in page


def test_large_tables_are_sampled_down_to_the_cap(run):
    params = make_params(
        run["params"].task,
        run["params"].paths.train.parent,
        drift={**run["params"].drift.model_dump(), "sample_rows": 500},
    )
    reference = run["reference"]

    summary, _ = compare(reference, reference.iloc[::-1], run["model"], params, ("a", "b"))

    assert summary.rows == {
        "reference": ROWS,
        "current": ROWS,
        "reference_compared": 500,
        "current_compared": 500,
    }


def test_a_column_that_turned_to_text_is_a_clear_error(run):
    current = run["reference"].assign(size="big")

    with pytest.raises(PipelineError, match="column 'size' holds numbers in the reference"):
        compare(run["reference"], current, run["model"], run["params"], ("a", "b"))


def test_without_a_reference_the_report_says_how_to_get_one(params):
    params.paths.ingested.parent.mkdir(parents=True)
    synthetic_frame(params.task).to_csv(params.paths.ingested, index=False)

    summary, snapshot = pull_request_drift(params)
    write_reports(params.paths.drift, summary, snapshot)

    assert snapshot is None
    markdown = (params.paths.drift / "drift.md").read_text()
    assert markdown.startswith("ℹ️ no drift check: there is no reference data yet; `make drift-reference")  # noqa: RUF001
    assert json.loads((params.paths.drift / "drift.json").read_text())["status"] == "no_reference"


def test_identical_data_is_reported_without_running_evidently_or_the_model(params):
    # No model file exists: loading it would fail, so passing proves the cheap path.
    for path in (params.paths.ingested, params.paths.drift_reference / REFERENCE_DATA):
        path.parent.mkdir(parents=True, exist_ok=True)
        synthetic_frame(params.task).to_csv(path, index=False)
    (params.paths.drift_reference / REFERENCE_REVISION).write_text("main at 1a2b3c4\n")

    summary, snapshot = pull_request_drift(params)

    assert (summary.status, snapshot) == ("unchanged", None)
    write_reports(params.paths.drift, summary, snapshot)
    assert (params.paths.drift / "drift.md").read_text() == (
        "✅ no drift: the data is identical to main at 1a2b3c4\n"
    )


def test_evidently_is_imported_only_when_two_tables_are_compared():
    modules = [
        "cli",
        "checks.drift",
        "checks.monitor",
        "checks.batches",
        "checks.reference",
        "model.train",
        "model.evaluate",
    ]
    imports = "; ".join(f"import {{ cookiecutter.package_name }}.{module}" for module in modules)

    result = subprocess.run(
        [sys.executable, "-c", f"import sys; {imports}; print('evidently' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout == "False\n"
