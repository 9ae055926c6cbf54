"""Draw the plot tables as PNG images offline, for reports and for people without DVC's viewer."""

from __future__ import annotations

from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")

import pandas as pd
from matplotlib.figure import Figure


def confusion(table: pd.DataFrame) -> Figure:
    """Counts of actual against predicted classes."""
    counts = pd.crosstab(table["actual"], table["predicted"])
    figure = Figure(figsize=(4.5, 4))
    axes = figure.subplots()
    axes.imshow(counts.to_numpy(), cmap="Blues")
    axes.set(
        xticks=range(counts.shape[1]), yticks=range(counts.shape[0]), xlabel="predicted", ylabel="actual"
    )
    axes.set_xticklabels(counts.columns)
    axes.set_yticklabels(counts.index)
    for (row, column), value in pd.DataFrame(counts.to_numpy()).stack().items():
        axes.text(column, row, str(value), ha="center", va="center")
    axes.set_title("Confusion matrix")
    return figure


def curve(x: str, y: str, title: str, diagonal: bool = False) -> Callable[[pd.DataFrame], Figure]:
    """A line chart of two columns of a table."""

    def draw(table: pd.DataFrame) -> Figure:
        figure = Figure(figsize=(4.5, 4))
        axes = figure.subplots()
        axes.plot(table[x], table[y])
        if diagonal:
            axes.plot([0, 1], [0, 1], linestyle="--", color="grey")
        axes.set(xlabel=x, ylabel=y, title=title)
        return figure

    return draw


def scatter(x: str, y: str, title: str) -> Callable[[pd.DataFrame], Figure]:
    """A scatter chart of two columns of a table."""

    def draw(table: pd.DataFrame) -> Figure:
        figure = Figure(figsize=(4.5, 4))
        axes = figure.subplots()
        axes.scatter(table[x], table[y], s=8, alpha=0.6)
        axes.set(xlabel=x, ylabel=y, title=title)
        return figure

    return draw


def importance(table: pd.DataFrame) -> Figure:
    """Permutation importance per input column, largest on top."""
    ordered = table.sort_values("importance")
    figure = Figure(figsize=(5.5, 0.35 * len(ordered) + 1.2))
    axes = figure.subplots()
    axes.barh(ordered["feature"], ordered["importance"], xerr=ordered["std"])
    axes.set(xlabel="drop in score when shuffled", title="Permutation feature importance")
    return figure


DRAWERS: dict[str, Callable[[pd.DataFrame], Figure]] = {
    "confusion": confusion,
    "roc": curve("fpr", "tpr", "ROC curve", diagonal=True),
    "precision_recall": curve("recall", "precision", "Precision-recall curve"),
    "predictions": scatter("actual", "predicted", "Predicted against actual"),
    "residuals": scatter("predicted", "residual", "Residuals"),
    "feature_importance": importance,
}


def draw_figures(tables: dict[str, pd.DataFrame]) -> dict[str, Figure]:
    """A figure for every plot table that has a drawing."""
    return {name: DRAWERS[name](table) for name, table in tables.items() if name in DRAWERS}
