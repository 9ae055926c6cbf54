"""Stage `evaluate`: score the model on the held-out set and write metrics and plot data."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn import metrics
from sklearn.inspection import permutation_importance
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import label_binarize

from ..config import Params, Task, load_params
from ..outputs import atomic_paths, json_text, spreadsheet_safe
from ..tables import features_and_target, read_table
from .figures import draw_figures
from .provenance import COMPUTED_FOR, computed_for
from .store import load_model

# The score permutation importance measures the loss of, per task.
IMPORTANCE_SCORING: dict[Task, str] = {
    "classification": "balanced_accuracy",
    "regression": "neg_root_mean_squared_error",
}


def classification_metrics(model: Pipeline, features: pd.DataFrame, target: pd.Series) -> dict[str, float]:
    """Accuracy-type metrics from labels, ranking metrics from probabilities."""
    predicted = model.predict(features)
    probabilities, classes = model.predict_proba(features), model.classes_
    if len(classes) == 2:
        roc_auc = metrics.roc_auc_score(target == classes[1], probabilities[:, 1])
    else:
        roc_auc = metrics.roc_auc_score(target, probabilities, multi_class="ovr", labels=classes)
    return {
        "accuracy": metrics.accuracy_score(target, predicted),
        "balanced_accuracy": metrics.balanced_accuracy_score(target, predicted),
        "f1_macro": metrics.f1_score(target, predicted, average="macro"),
        "roc_auc": roc_auc,
        "log_loss": metrics.log_loss(target, probabilities, labels=classes),
    }


def regression_metrics(model: Pipeline, features: pd.DataFrame, target: pd.Series) -> dict[str, float]:
    """Errors in the target's own units, and the share of variance explained."""
    predicted = model.predict(features)
    return {
        "rmse": metrics.root_mean_squared_error(target, predicted),
        "mae": metrics.mean_absolute_error(target, predicted),
        "r2": metrics.r2_score(target, predicted),
    }


def score(model: Pipeline, features: pd.DataFrame, target: pd.Series, task: Task) -> dict[str, float]:
    """The task's metrics, rounded so that reruns and diffs stay readable."""
    compute = classification_metrics if task == "classification" else regression_metrics
    return {name: round(float(value), 6) for name, value in compute(model, features, target).items()}


def classification_plots(
    model: Pipeline, features: pd.DataFrame, target: pd.Series
) -> dict[str, pd.DataFrame]:
    """Confusion pairs, and ROC and precision-recall curves (micro-averaged beyond two classes)."""
    probabilities, classes = model.predict_proba(features), model.classes_
    if len(classes) == 2:
        truth, scores = (target == classes[1]).to_numpy(), probabilities[:, 1]
    else:
        truth, scores = label_binarize(target, classes=classes).ravel(), probabilities.ravel()
    fpr, tpr, roc_thresholds = metrics.roc_curve(truth, scores)
    precision, recall, pr_thresholds = metrics.precision_recall_curve(truth, scores)
    return {
        "confusion": pd.DataFrame(
            {"actual": target.astype(str), "predicted": model.predict(features).astype(str)}
        ),
        "roc": pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": roc_thresholds}),
        "precision_recall": pd.DataFrame(
            {"recall": recall[:-1], "precision": precision[:-1], "threshold": pr_thresholds}
        ),
    }


def regression_plots(model: Pipeline, features: pd.DataFrame, target: pd.Series) -> dict[str, pd.DataFrame]:
    """Predicted against actual values, and residuals against predictions."""
    predicted = model.predict(features)
    return {
        "predictions": pd.DataFrame({"actual": target.to_numpy(), "predicted": predicted}),
        "residuals": pd.DataFrame({"predicted": predicted, "residual": target.to_numpy() - predicted}),
    }


def feature_importance(
    model: Pipeline, features: pd.DataFrame, target: pd.Series, params: Params
) -> pd.DataFrame:
    """How much the score drops when each input column is shuffled, most important first."""
    result = permutation_importance(
        model,
        features,
        target,
        scoring=IMPORTANCE_SCORING[params.task],
        n_repeats=params.evaluate.permutation_repeats,
        random_state=params.seed,
    )
    table = pd.DataFrame(
        {"feature": features.columns, "importance": result.importances_mean, "std": result.importances_std}
    )
    return table.sort_values("importance", ascending=False).round(6).reset_index(drop=True)


def plot_tables(
    model: Pipeline, features: pd.DataFrame, target: pd.Series, params: Params
) -> dict[str, pd.DataFrame]:
    """Every table DVC plots from, keyed by file stem."""
    task_plots = classification_plots if params.task == "classification" else regression_plots
    return {
        **task_plots(model, features, target),
        "feature_importance": feature_importance(model, features, target, params),
    }


def write_outputs(
    scores: dict[str, float], tables: dict[str, pd.DataFrame], params: Params, provenance: dict[str, Any]
) -> None:
    """Write metrics, what they were computed for, plot tables and their PNG renderings: all, or none.

    The provenance is a file of its own: DVC reads every key of a metrics file, strings
    included, and `dvc metrics diff` would list md5s as metrics.
    """
    figures = draw_figures(tables)
    table_paths = [params.paths.plots / f"{name}.csv" for name in tables]
    figure_paths = [params.paths.figures / f"{name}.png" for name in figures]
    with atomic_paths(params.paths.metrics, params.paths.metrics_provenance, *table_paths, *figure_paths) as (
        metrics_out,
        provenance_out,
        *outputs,
    ):
        metrics_out.write_text(json_text(scores), encoding="utf-8")
        provenance_out.write_text(json_text(provenance), encoding="utf-8")
        for table, output in zip(tables.values(), outputs[: len(tables)], strict=True):
            spreadsheet_safe(table).to_csv(output, index=False, float_format="%.6g")
        for figure, output in zip(figures.values(), outputs[len(tables) :], strict=True):
            figure.savefig(output, format="png", dpi=110, bbox_inches="tight")


def main() -> None:
    params = load_params()
    model = load_model(params.paths.model)
    features, target = features_and_target(read_table(params.paths.test), params.data)
    scores = score(model, features, target, params.task)
    provenance = {
        "metrics": params.paths.metrics.as_posix(),
        COMPUTED_FOR: computed_for(params.paths.model, params.paths.test),
    }
    write_outputs(scores, plot_tables(model, features, target, params), params, provenance)
    print("evaluate: " + ", ".join(f"{name}={value:.4f}" for name, value in scores.items()))
