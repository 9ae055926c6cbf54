import json

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data.split import split
from {{ cookiecutter.package_name }}.model.evaluate import plot_tables, score, write_outputs
from {{ cookiecutter.package_name }}.model.train import train
from {{ cookiecutter.package_name }}.tables import features_and_target

EXPECTED_METRICS = {
    "classification": {"accuracy", "balanced_accuracy", "f1_macro", "roc_auc", "log_loss"},
    "regression": {"rmse", "mae", "r2"},
}
EXPECTED_PLOTS = {
    "classification": {"confusion", "roc", "precision_recall", "feature_importance"},
    "regression": {"predictions", "residuals", "feature_importance"},
}


@pytest.fixture
def fitted(frame, params):
    train_frame, test_frame = split(frame, params)
    model = train(*features_and_target(train_frame, params.data), params)
    return model, *features_and_target(test_frame, params.data)


def test_metrics_are_the_tasks_and_better_than_chance(fitted, params):
    model, features, target = fitted

    scores = score(model, features, target, params.task)

    assert set(scores) == EXPECTED_METRICS[params.task]
    if params.task == "classification":
        assert 0.7 < scores["roc_auc"] <= 1
        assert 0.5 < scores["balanced_accuracy"] <= 1
    else:
        assert scores["r2"] > 0.5
        assert scores["mae"] <= scores["rmse"]


def test_permutation_importance_ranks_the_informative_column_above_noise(fitted, params):
    model, features, target = fitted

    importance = plot_tables(model, features, target, params)["feature_importance"]

    ranked = importance["feature"].tolist()
    assert ranked.index("size") < ranked.index("count")


def test_outputs_are_written_together(fitted, params):
    model, features, target = fitted
    tables = plot_tables(model, features, target, params)

    provenance = {"computed_for": {"model": {"md5": "a" * 32}, "data": {"md5": "b" * 32}}}
    write_outputs(score(model, features, target, params.task), tables, params, provenance)

    assert params.paths.metrics.read_text().startswith("{")
    assert json.loads(params.paths.metrics_provenance.read_text()) == provenance
    assert {path.stem for path in params.paths.plots.glob("*.csv")} == EXPECTED_PLOTS[params.task]
    figures = list(params.paths.figures.glob("*.png"))
    assert {path.stem for path in figures} == EXPECTED_PLOTS[params.task]
    assert all(path.read_bytes().startswith(b"\x89PNG") for path in figures)


def test_plot_tables_quote_the_names_a_spreadsheet_would_run(params):
    names = ["=cmd|' /C calc'!A0", "@SUM(A1)", "size"]
    importance = pd.DataFrame({"feature": names, "importance": [-0.5, 0.1, 0.2], "std": 0.0})

    write_outputs({"accuracy": 1.0}, {"feature_importance": importance}, params, {})

    rows = (params.paths.plots / "feature_importance.csv").read_text().splitlines()
    assert rows[1:] == ["'=cmd|' /C calc'!A0,-0.5,0", "'@SUM(A1),0.1,0", "size,0.2,0"]
