"""The deployed model scored on a labelled production batch, against its own test-set metrics.

Concept drift: the inputs may look the same while the answers they should get have moved.
A gated metric that misses its gate in params.yaml, or falls further below the test set's
score than model_tests.regression_tolerance allows, is a drop. A batch with fewer labelled rows
than model_tests.min_labelled_rows is not judged: a score on a handful of rows is noise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd
from sklearn.pipeline import Pipeline

from ..config import Params
from ..model.evaluate import score
from ..outputs import markdown_table
from ..tables import features_and_target
from .model_tests import LOWER_IS_BETTER, compare


@dataclass(frozen=True)
class Performance:
    """The batch's scores next to the test set's, and which gated metrics dropped."""

    rows: int
    scores: dict[str, float]
    test_scores: dict[str, float]
    drops: list[str]
    min_rows: int

    @property
    def judged(self) -> bool:
        """Whether the batch has enough labelled rows for its scores to mean something."""
        return self.rows >= self.min_rows

    def verdict(self) -> str:
        """One line: what dropped, or why nothing was judged."""
        if not self.judged:
            return (
                f"{self.rows} labelled {'row' if self.rows == 1 else 'rows'}, too few to judge the metrics "
                f"(model_tests.min_labelled_rows: {self.min_rows})"
            )
        return f"metrics on {self.rows} labelled rows: {', '.join(self.drops) or 'no gated metric'} dropped"

    def markdown(self, gates: dict[str, float]) -> str:
        """The section the drift issue gets: one line per gated metric."""
        if not self.judged:
            return f"## Model performance on the labelled batch: not judged\n\n{self.verdict()}."
        rows = []
        for metric, bound in gates.items():
            batch, test = self.scores.get(metric), self.test_scores.get(metric)
            state = "❌ dropped" if metric in self.drops else "✅"
            shown_test = f"{test:.4g}" if test is not None else "-"
            shown_batch = f"{batch:.4g}" if batch is not None else "-"
            rows.append([metric, shown_batch, shown_test, f"{bound:g}", state])
        headline = f"## Model performance on the labelled batch: {'dropped' if self.drops else 'in line'}"
        table = markdown_table(["metric", "batch", "test set", "gate", ""], rows)
        return f"{headline}\n\n{self.rows} labelled rows.\n\n{table}"


def dropped(metric: str, value: float, test: float | None, gate: float, tolerance: float) -> bool:
    """Below the gate, or worse than the test set by more than the tolerated share."""
    if not compare(metric, value, gate)[0]:
        return True
    if test is None:
        return False
    if metric in LOWER_IS_BETTER:
        return value > test * (1 + tolerance)
    return value < test * (1 - tolerance)


def performance(model: Pipeline, batch: pd.DataFrame, params: Params) -> Performance:
    """Score the model on a labelled batch and compare with the test set's metrics."""
    labelled = batch.dropna(subset=[params.data.target])
    metrics_file = params.paths.metrics
    test_scores = json.loads(metrics_file.read_text(encoding="utf-8")) if metrics_file.is_file() else {}
    tests = params.model_tests
    if len(labelled) < tests.min_labelled_rows:
        return Performance(len(labelled), {}, test_scores, [], tests.min_labelled_rows)
    scores = score(model, *features_and_target(labelled, params.data), params.task)
    drops = [
        metric
        for metric, gate in tests.gates.items()
        if metric in scores
        and dropped(metric, scores[metric], test_scores.get(metric), gate, tests.regression_tolerance)
    ]
    return Performance(len(labelled), scores, test_scores, drops, tests.min_labelled_rows)
