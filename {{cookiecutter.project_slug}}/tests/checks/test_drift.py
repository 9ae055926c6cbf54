import json
import subprocess
import sys
from html.parser import HTMLParser
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import pytest
from sklearn import datasets
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from {{ cookiecutter.package_name }}.checks.batches import shift
from {{ cookiecutter.package_name }}.checks.drift import (
    column_kinds,
    compare,
    false_alarm_level,
    noise_floors,
    pull_request_drift,
    thresholds,
    write_reports,
)
from {{ cookiecutter.package_name }}.checks.drift_markdown import verdict
from {{ cookiecutter.package_name }}.checks.drift_noise import (
    Distance,
    distance_for,
    finite,
    noise_distances,
    noise_floor,
)
from {{ cookiecutter.package_name }}.checks.reference import REFERENCE_DATA, REFERENCE_REVISION
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.model.store import save_model
from {{ cookiecutter.package_name }}.model.train import train
from {{ cookiecutter.package_name }}.tables import features_and_target

from ..conftest import TASKS, make_params, synthetic_frame


def distance(measure: Distance, reference: np.ndarray, current: np.ndarray) -> float:
    """The distance between two columns' values, by the floor's measure on their counts."""
    codes, support = pd.factorize(np.concatenate([reference, current]), sort=True)
    split = len(reference)
    counts = [np.bincount(part, minlength=len(support))[None, :] for part in (codes[:split], codes[split:])]
    return float(measure(support, *counts)[0])


ROWS = 4000
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
    # At 4000 rows a table's sampling noise stays under params.yaml's threshold, which therefore holds.
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
        "reference_predicted": 500,
        "current_predicted": 500,
    }


def test_a_column_that_turned_to_text_is_a_clear_error(run):
    current = run["reference"].assign(size="big")

    with pytest.raises(PipelineError, match="column 'size' holds numbers in the reference"):
        compare(run["reference"], current, run["model"], run["params"], ("a", "b"))


def test_a_column_left_empty_is_a_clear_error_not_evidentlys(run):
    current = run["reference"].assign(size=float("nan"))

    with pytest.raises(PipelineError, match="column 'size' has no value in any row of the current data"):
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


def test_a_new_dataset_with_no_column_in_common_is_a_schema_change_not_an_error(params):
    # The first pull request that brings your own data: no model file is needed either.
    reference = pd.DataFrame({"tenure": [1, 2, 3], "plan": ["a", "b", "a"]})
    for path, frame in (
        (params.paths.ingested, synthetic_frame(params.task)),
        (params.paths.drift_reference / REFERENCE_DATA, reference),
    ):
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, index=False)

    summary, snapshot = pull_request_drift(params)
    write_reports(params.paths.drift, summary, snapshot)

    report = json.loads((params.paths.drift / "drift.json").read_text())
    markdown = (params.paths.drift / "drift.md").read_text()
    assert snapshot is None
    assert (report["status"], report["schema_changed"], report["drift_detected"]) == (
        "no_common_columns",
        True,
        False,
    )
    assert markdown.startswith("ℹ️ no drift check: the schema changed, no column is in both tables")  # noqa: RUF001
    assert "only the reference has: tenure, plan" in markdown
    assert "only the current data has: size, count, colour" in markdown


def test_a_pull_request_compares_predictions_on_the_rows_the_model_did_not_train_on(tmp_path):
    params = make_params("regression", tmp_path)
    base = synthetic_frame("regression", rows=600, seed=0)
    added = synthetic_frame("regression", rows=200, seed=1).assign(row_id=lambda frame: frame["row_id"] + 600)
    branch = pd.concat([base, added], ignore_index=True)
    training = branch.sample(n=640, random_state=0)
    for path, frame in (
        (params.paths.drift_reference / REFERENCE_DATA, base),
        (params.paths.ingested, branch),
        (params.paths.train, training),
    ):
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, index=False)
    params.paths.model.parent.mkdir(parents=True)
    save_model(train(*features_and_target(training, params.data), params), params.paths.model)

    summary, _ = pull_request_drift(params)

    unseen_base = (~base["row_id"].isin(training["row_id"])).sum()
    assert (summary.rows["reference_predicted"], summary.rows["current_predicted"]) == (unseen_base, 160)
    assert (summary.rows["reference_compared"], summary.rows["current_compared"]) == (600, 800)


def test_columns_added_or_removed_are_compared_on_what_both_tables_share(run):
    # The branch dropped nothing its model needs, and added `discount`; the base lacked `count`.
    base, branch = run["reference"].drop(columns=["count"]), run["reference"].assign(discount=1.0)

    summary, _ = compare(base, branch, run["model"], run["params"], ("a", "b"))

    assert summary.schema_changed
    compared = {column.column for column in summary.columns}
    assert {"size", "colour"} <= compared
    assert not compared & {"count", "discount"}
    assert "only the current data has: count, discount" in summary.notes
    assert verdict(summary).endswith("; the schema changed: columns were added or removed (see the notes)")


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


def test_the_noise_floor_measures_distances_as_evidently_does(run):
    summary, _ = run["stable"]
    reference, current = run["reference"], synthetic_frame(run["params"].task, rows=ROWS, seed=1)

    for column in summary.columns:
        method = {"numerical": "wasserstein", "categorical": "jensenshannon"}[column.kind]
        measure = distance_for(method, column.kind, reference[column.column])
        ours = distance(
            measure, finite(reference[column.column]).to_numpy(), finite(current[column.column]).to_numpy()
        )
        assert ours == pytest.approx(column.score, rel=1e-6, abs=1e-9), column.column


# Small public tables: (loader, task, rows). Seven input columns, one of them categorical.
SMALL_TABLES = [
    ("load_wine", "classification", 150),
    ("load_wine", "classification", 178),
    ("load_breast_cancer", "classification", 300),
    ("load_breast_cancer", "classification", 500),
    ("load_diabetes", "regression", 150),
    ("load_diabetes", "regression", 442),
]


def small_table(loader: str, rows: int, seed: int) -> tuple[pd.DataFrame, str]:
    """Six numeric columns of a scikit-learn dataset, a category cut from the first, and the target."""
    frame = getattr(datasets, loader)(as_frame=True).frame.sample(n=rows, random_state=seed)
    numeric = [str(column) for column in frame.columns if column != "target"][:6]
    band = pd.qcut(frame[numeric[0]], 3, labels=["low", "mid", "high"]).astype(str)
    return frame[numeric].assign(band=band, target=frame["target"]).reset_index(drop=True), numeric[1]


def held_out_split(frame: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A third of the rows held out at random, without the target, as the pipeline's split would."""
    held_out = frame.sample(frac=1 / 3, random_state=seed)
    return frame.drop(held_out.index), held_out.drop(columns="target")


def clearly_shifted(batch: pd.DataFrame, numeric: str, seed: int) -> pd.DataFrame:
    """One numeric column moved by 1.5 spreads, and three in four rows moved to one band.

    make-batch's skew (half the rows) can hide in the noise of a 50-row batch; this change cannot.
    """
    moved = np.random.default_rng(seed).random(len(batch)) < 0.75
    return batch.assign(
        **{numeric: batch[numeric] + 1.5 * batch[numeric].std(), "band": batch["band"].mask(moved, "low")}
    )


def flagged(reference: pd.DataFrame, current: pd.DataFrame, params, seed: int) -> list[str]:
    """The columns whose distance reaches their threshold, as compare() finds them but without Evidently."""
    columns = [str(column) for column in current.columns]
    kinds = column_kinds(reference, current, columns)
    level = false_alarm_level(len(columns), params.drift, prediction=False)
    used = thresholds(kinds, noise_floors(reference, current, kinds, params.drift, level, seed), params.drift)
    found = []
    for column, kind in kinds.items():
        method = params.drift.numerical.method if kind == "numerical" else params.drift.categorical.method
        measure = distance_for(method, kind, reference[column])
        values = (finite(table[column]).to_numpy() for table in (reference, current))
        if distance(measure, *values) >= used[column]:
            found.append(column)
    return found


@pytest.mark.parametrize(("loader", "task", "rows"), SMALL_TABLES)
def test_on_small_tables_a_held_out_split_never_drifts_and_a_shifted_one_always_does(
    loader, task, rows, tmp_path
):
    params = make_params(task, tmp_path)
    for seed in range(5):
        frame, numeric = small_table(loader, rows, seed)
        reference, held_out = held_out_split(frame, seed)

        stable = flagged(reference, held_out, params, seed)
        shifted = flagged(reference, clearly_shifted(held_out, numeric, seed), params, seed)

        assert len(stable) / len(held_out.columns) < params.drift.drift_share, (seed, stable)
        assert {numeric, "band"} <= set(shifted), (seed, shifted)


def small_table_model(reference: pd.DataFrame, task: str) -> Pipeline:
    """A model of a small table's numeric columns, so that its predictions are compared too."""
    inputs = [column for column in reference.columns if column not in {"band", "target"}]
    estimator = LogisticRegression(max_iter=1000) if task == "classification" else Ridge()
    return make_pipeline(StandardScaler(), estimator).fit(reference[inputs], reference["target"])


@pytest.fixture(scope="module")
def small_runs(tmp_path_factory):
    """Evidently's own verdicts on a stable and a shifted batch of two small tables, run once."""
    runs = {}
    for loader, task, rows in (SMALL_TABLES[0], SMALL_TABLES[4]):
        params = make_params(task, tmp_path_factory.mktemp(loader))
        frame, numeric = small_table(loader, rows, seed=0)
        reference, held_out = held_out_split(frame, seed=0)
        model = small_table_model(reference, task)
        names = ("reference", "batch")
        runs[loader] = {
            "numeric": numeric,
            "stable": compare(reference, held_out, model, params, names)[0],
            "shifted": compare(reference, clearly_shifted(held_out, numeric, 0), model, params, names)[0],
        }
    return runs


@pytest.mark.parametrize("loader", ["load_wine", "load_diabetes"])
def test_evidently_holds_small_tables_to_the_noise_floor(small_runs, loader):
    run = small_runs[loader]

    assert run["stable"].drift_detected is False
    assert run["stable"].drifted_columns == []
    assert run["shifted"].drift_detected is True
    assert set(run["shifted"].drifted_columns) >= {run["numeric"], "band"}
    floored = [column for column in run["stable"].columns if column.threshold_source == "noise floor"]
    assert floored, "at 50 rows sampling noise is above params.yaml's 0.1"
    assert all(column.threshold == column.noise_floor > 0.1 for column in floored)


def test_the_noise_floor_is_passed_by_chance_about_as_rarely_as_its_level_says():
    reference = pd.Series(np.random.default_rng(0).lognormal(size=300))
    measure = distance_for("wasserstein", "numerical", reference)
    level = 0.001

    floor = noise_floor(reference, 40, measure, rounds=1000, level=level, seed=1)
    fresh = noise_distances(reference, 40, measure, rounds=50_000, rng=np.random.default_rng(2))

    assert level / 3 < np.mean(fresh >= floor) < 2 * level


def test_columns_that_move_together_do_not_add_up_to_a_false_alarm(tmp_path):
    """Breast cancer's radius, perimeter, area and a band cut from the radius move as one, so
    a chance shift of one moves all four: a held-out split must still not drift, a shifted one must.
    At seed 19 a per-column 1% floor flagged perimeter and area together: 2 of 7 columns."""
    params = make_params("classification", tmp_path)
    for seed in range(16, 20):
        frame, numeric = small_table("load_breast_cancer", 200, seed)
        reference, held_out = held_out_split(frame, seed)
        model = small_table_model(reference, "classification")
        names = ("reference", "batch")

        stable, _ = compare(reference, held_out, model, params, names)
        shifted, _ = compare(reference, clearly_shifted(held_out, numeric, seed), model, params, names)

        assert stable.drift_detected is False, (seed, stable.drifted_columns)
        assert shifted.dataset_drift is True, (seed, shifted.drifted_columns)
