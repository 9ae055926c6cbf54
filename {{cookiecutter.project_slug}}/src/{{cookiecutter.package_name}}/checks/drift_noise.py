"""The noise floor: how far apart two tables of these sizes drawn from the reference already are.

A distance between two samples is never zero: with a few hundred rows, sampling alone moves a
normed Wasserstein distance or a Jensen-Shannon distance past a fixed 0.1. So each column's
threshold is raised to a high quantile of the same distance between two seeded bootstrap draws
from the reference, one the reference's size and one the current table's size. With large tables
the floor falls below the configured threshold, which then holds as before.

The distances are computed as Evidently computes them (its legacy stattests, which its ValueDrift
runs), so the floor and Evidently's score are on one scale.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import distance

from .drift_findings import Kind

Distance = Callable[[np.ndarray, np.ndarray], float]

MANY_VALUES = 20  # Evidently bins a numeric column with more distinct values than this; else counts them


def finite(column: pd.Series) -> pd.Series:
    """The values Evidently compares: infinities and missing values left out."""
    return column.replace([np.inf, -np.inf], np.nan).dropna()


def normed_wasserstein(reference: np.ndarray, current: np.ndarray) -> float:
    """Wasserstein distance in units of the reference's standard deviation (Evidently's `wasserstein`)."""
    return float(stats.wasserstein_distance(reference, current) / max(float(np.std(reference)), 0.001))


def category_jensenshannon(reference: np.ndarray, current: np.ndarray) -> float:
    """Jensen-Shannon distance between the two tables' category shares (Evidently's `jensenshannon`)."""
    codes, keys = pd.factorize(np.concatenate([reference, current]))
    split = len(reference)
    reference_counts, current_counts = (
        np.bincount(part, minlength=len(keys)) for part in (codes[:split], codes[split:])
    )
    return float(distance.jensenshannon(reference_counts / len(reference), current_counts / len(current)))


def binned_jensenshannon(reference: np.ndarray, current: np.ndarray) -> float:
    """Jensen-Shannon distance between histograms on shared Sturges bins, as Evidently bins numbers."""
    bins = np.histogram_bin_edges(np.concatenate([reference, current]), bins="sturges")
    return float(
        distance.jensenshannon(
            np.histogram(reference, bins)[0] / len(reference), np.histogram(current, bins)[0] / len(current)
        )
    )


def distance_for(method: str, kind: Kind, reference: pd.Series) -> Distance | None:
    """The distance Evidently computes for this method and column, or None for a method without a floor."""
    if method == "wasserstein" and kind == "numerical":
        return normed_wasserstein
    if method == "jensenshannon":
        binned = kind == "numerical" and reference.nunique() > MANY_VALUES
        return binned_jensenshannon if binned else category_jensenshannon
    return None


def noise_floor(
    reference: pd.Series, current_rows: int, measure: Distance, rounds: int, quantile: float, seed: int
) -> float:
    """The `quantile` of the distance between two draws from the reference, of the two tables' sizes."""
    values = finite(reference).to_numpy()
    if len(values) < 2 or current_rows < 1:
        return 0.0
    rng = np.random.default_rng(seed)
    distances = [
        measure(rng.choice(values, size=len(values)), rng.choice(values, size=current_rows))
        for _ in range(rounds)
    ]
    return float(np.quantile(distances, quantile))
