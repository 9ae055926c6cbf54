"""The noise floor: how far apart two tables of these sizes drawn from the reference already are.

A distance between two samples is never zero: with a few hundred rows, sampling alone moves a
normed Wasserstein distance or a Jensen-Shannon distance past a fixed 0.1. So each column's
threshold is raised to the distance that two bootstrap draws from the reference, one the
reference's size and one the current table's, exceed only at the column's false-alarm level.
With large tables the floor falls below the configured threshold, which then holds as before.

A draw from the reference is a count per distinct reference value (a multinomial), so thousands
of draws are a few array operations, and every distance below is computed from such counts.
The distances are those Evidently computes (its legacy stattests, which its ValueDrift runs),
so the floor and Evidently's score are on one scale.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from .drift_findings import Kind

# A distance between rows of counts over one support of values: one distance per row.
Distance = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]

MANY_VALUES = 20  # Evidently bins a numeric column with more distinct values than this; else counts them
MOST_VALUES = 2000  # a larger numeric support is drawn from as this many equal-count groups of values
CELLS_PER_CHUNK = 4_000_000  # draws are made in chunks of at most this many counts, to bound memory
TAIL_SHARE = 0.1  # the floor's tail is fitted to the largest tenth of the draws


def finite(column: pd.Series) -> pd.Series:
    """The values Evidently compares: infinities and missing values left out."""
    return column.replace([np.inf, -np.inf], np.nan).dropna()


def normed_wasserstein(support: np.ndarray, reference: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Wasserstein distance in units of the reference's standard deviation (Evidently's `wasserstein`):
    the area between the two cumulative distributions over the sorted support."""
    support = support.astype(float)  # squares of large integers would overflow
    reference_rows, current_rows = reference.sum(axis=1), current.sum(axis=1)
    reference_cdf = np.cumsum(reference, axis=1) / reference_rows[:, None]
    gap = np.abs(reference_cdf - np.cumsum(current, axis=1) / current_rows[:, None])
    area = gap[:, :-1] @ np.diff(support)
    mean = reference @ support / reference_rows
    spread = np.sqrt(np.maximum(reference @ support**2 / reference_rows - mean**2, 0.0))
    return area / np.maximum(spread, 0.001)


def jensenshannon(reference: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Jensen-Shannon distance (natural log, as scipy's) between the rows' shares."""
    p = reference / reference.sum(axis=1, keepdims=True)
    q = current / current.sum(axis=1, keepdims=True)
    middle = (p + q) / 2

    def divergence(shares: np.ndarray) -> np.ndarray:
        ratio = np.divide(shares, middle, out=np.ones_like(shares), where=shares > 0)
        return (shares * np.log(ratio)).sum(axis=1)

    return np.sqrt(np.maximum((divergence(p) + divergence(q)) / 2, 0.0))


def category_jensenshannon(support: np.ndarray, reference: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Jensen-Shannon distance between the two tables' category shares (Evidently's `jensenshannon`)."""
    del support  # categories are compared by count alone
    return jensenshannon(reference, current)


def binned_jensenshannon(support: np.ndarray, reference: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Jensen-Shannon distance between histograms on the Sturges bins of both tables together, as
    Evidently bins numbers: equal bins from the smallest to the largest value either table holds."""
    support = support.astype(float)
    present = (reference + current) > 0
    low = support[np.argmax(present, axis=1)]
    high = support[len(support) - 1 - np.argmax(present[:, ::-1], axis=1)]
    rows = int(reference[0].sum() + current[0].sum())
    bins = int(np.ceil(np.log2(rows))) + 1  # numpy's Sturges rule
    width = np.where(high > low, high - low, 1.0) / bins
    index = np.clip(np.floor((support[None, :] - low[:, None]) / width[:, None]), 0, bins - 1).astype(int)
    flat = (index + bins * np.arange(len(index))[:, None]).ravel()

    def binned(counts: np.ndarray) -> np.ndarray:
        return np.bincount(flat, weights=counts.ravel(), minlength=len(index) * bins).reshape(-1, bins)

    return jensenshannon(binned(reference), binned(current))


def distance_for(method: str, kind: Kind, reference: pd.Series) -> Distance | None:
    """The distance Evidently computes for this method and column, or None for a method without a floor."""
    if method == "wasserstein" and kind == "numerical":
        return normed_wasserstein
    if method == "jensenshannon":
        binned = kind == "numerical" and reference.nunique() > MANY_VALUES
        return binned_jensenshannon if binned else category_jensenshannon
    return None


def reference_support(reference: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The reference's distinct values, sorted, and how often each occurs.

    A numeric column with more distinct values than MOST_VALUES (only large tables have them)
    is drawn from as groups of neighbouring values of about equal counts, each at its mean: the
    cost of a draw grows with the support, and the groups barely change the distances' spread.
    """
    codes, support = pd.factorize(finite(reference).to_numpy(), sort=True)
    counts = np.bincount(codes)
    if len(support) <= MOST_VALUES or not pd.api.types.is_numeric_dtype(support):
        return np.asarray(support), counts
    group = (np.cumsum(counts) - counts) * MOST_VALUES // counts.sum()
    grouped = np.bincount(group, weights=counts)
    used = grouped > 0  # a value more frequent than a group's share spans several groups
    return (np.bincount(group, weights=counts * support) / np.where(used, grouped, 1))[used], grouped[used]


def noise_distances(
    reference: pd.Series, current_rows: int, measure: Distance, rounds: int, rng: np.random.Generator
) -> np.ndarray:
    """The distance between two bootstrap draws from the reference, of the two tables' sizes, many times."""
    support, counts = reference_support(reference)
    shares, reference_rows = counts / counts.sum(), int(counts.sum())
    chunk = max(1, CELLS_PER_CHUNK // len(support))
    return np.concatenate(
        [
            measure(
                support,
                rng.multinomial(reference_rows, shares, size=size),
                rng.multinomial(current_rows, shares, size=size),
            )
            for size in np.diff([*range(0, rounds, chunk), rounds])
        ]
    )


def tail_quantile(distances: np.ndarray, level: float) -> float:
    """The distance that draws exceed `level` of the time, however small `level` is.

    Below the draws' own resolution the tail is fitted: an exponential tail above the draws' 90%
    quantile, its scale their mean excess over it. The distances' real tails are no heavier than
    that for skewed columns and lighter for others, so the fit errs on the side of fewer alarms.
    """
    if level >= TAIL_SHARE:
        return float(np.quantile(distances, 1 - level))
    start = float(np.quantile(distances, 1 - TAIL_SHARE))
    excess = distances[distances > start] - start
    scale = float(excess.mean()) if len(excess) else 0.0
    return start + scale * float(np.log(TAIL_SHARE / level))


def noise_floor(
    reference: pd.Series, current_rows: int, measure: Distance, rounds: int, level: float, seed: int
) -> float:
    """The distance two draws from the reference, of the two tables' sizes, pass `level` of the time."""
    if len(finite(reference)) < 2 or current_rows < 1:
        return 0.0
    rng = np.random.default_rng(seed)
    return tail_quantile(noise_distances(reference, current_rows, measure, rounds, rng), level)
