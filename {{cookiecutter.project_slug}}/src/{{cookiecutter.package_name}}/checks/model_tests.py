"""`model-tests`: gate the trained model, compare it with the base branch, and probe its behaviour."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from sklearn import metrics
from sklearn.base import BaseEstimator
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.pipeline import Pipeline

from ..config import PARAMS_FILE, Params, base_branch, load_params
from ..errors import PipelineError
from ..model.evaluate import score
from ..model.params_check import check_model_tests, primary_metric
from ..model.provenance import COMPUTED_FOR, computed_for
from ..model.store import load_model, untrusted_types
from ..outputs import atomic_paths, json_text, markdown_code, markdown_table, markdown_text
from ..repo.git import file_at
from ..tables import features_and_target, read_table

LOWER_IS_BETTER = frozenset({"log_loss", "rmse", "mae"})
SLICE_METRICS: dict[str, Callable[[pd.Series, np.ndarray], float]] = {
    "accuracy": metrics.accuracy_score,
    "balanced_accuracy": metrics.balanced_accuracy_score,
    "f1_macro": lambda truth, predicted: metrics.f1_score(truth, predicted, average="macro"),
    "mae": metrics.mean_absolute_error,
    "rmse": metrics.root_mean_squared_error,
    "r2": metrics.r2_score,
}
LATENCY_REPEATS = 20
BATCH_ROWS = 1000


@dataclass(frozen=True)
class Outcome:
    """One model test: passed, failed or skipped, and the numbers behind that."""

    group: str
    name: str
    status: str
    detail: str


def passed(ok: bool) -> str:
    return "passed" if ok else "failed"


def compare(metric: str, value: float, bound: float) -> tuple[bool, str]:
    """Whether a value is on the good side of a bound, and the comparison as text."""
    if metric in LOWER_IS_BETTER:
        return value <= bound, f"{value:.4g} {'≤' if value <= bound else '>'} {bound:.4g}"
    return value >= bound, f"{value:.4g} {'≥' if value >= bound else '<'} {bound:.4g}"


def gate_outcomes(scores: dict[str, float], gates: dict[str, float]) -> list[Outcome]:
    """Each gated metric against its bound from params.yaml."""
    unknown = sorted(set(gates) - set(scores))
    if unknown:
        raise PipelineError(
            f"model_tests.gates names metrics the evaluate stage does not write: {', '.join(unknown)}; "
            f"it writes: {', '.join(sorted(scores))}"
        )
    outcomes = []
    for metric, bound in gates.items():
        ok, text = compare(metric, scores[metric], bound)
        kind = "maximum" if metric in LOWER_IS_BETTER else "minimum"
        outcomes.append(Outcome("gate", metric, passed(ok), f"{text} ({kind} in params.yaml)"))
    return outcomes


def committed_on(ref: str, path: Path) -> str | None:
    """A file as the branch has it committed (local, or fetched from origin), if it has it."""
    in_repository = Path(os.path.relpath(path)).as_posix()
    for candidate in (ref, f"origin/{ref}"):
        if (text := file_at(candidate, in_repository)) is not None:
            return text
    return None


def base_metrics(ref: str, path: Path) -> dict[str, float] | None:
    """The metrics committed on a branch, if it has any."""
    text = committed_on(ref, path)
    return None if text is None else json.loads(text)


def base_data_differs(ref: str, params: Params) -> str | None:
    """Why the base branch's metrics are not comparable (another dataset, target or task), if they are not."""
    text = committed_on(ref, PARAMS_FILE)
    if text is None:
        return None
    try:
        base = yaml.safe_load(text) or {}
        theirs = (base.get("task"), base["data"].get("source"), base["data"].get("target"))
    except (yaml.YAMLError, AttributeError, KeyError, TypeError):
        return None
    ours = (params.task, params.data.source, params.data.target)
    if theirs == ours:
        return None
    task, source, target = theirs
    return f"{ref} trains on other data ({source}, target {target}, {task}): nothing to compare with"


def compared_metrics(params: Params) -> list[str]:
    """The gated metrics and the primary one, each once."""
    return list(dict.fromkeys([*params.model_tests.gates, primary_metric(params)]))


def regression_outcomes(scores: dict[str, float], params: Params) -> list[Outcome]:
    """Each gated metric, and the primary one, may lose at most the tolerance against the base branch."""
    ref, tolerance = base_branch(params), params.model_tests.regression_tolerance
    compared = compared_metrics(params)
    base = base_metrics(ref, params.paths.metrics)
    if base is None:
        reason = f"no {params.paths.metrics} committed on {ref} (first commit?): nothing to compare with"
        return [Outcome("no regression", metric, "skipped", reason) for metric in compared]
    if reason := base_data_differs(ref, params):
        return [Outcome("no regression", metric, "skipped", reason) for metric in compared]
    outcomes = []
    for metric in compared:
        if metric not in base or metric not in scores:
            outcomes.append(Outcome("no regression", metric, "skipped", f"{ref} has no {metric}"))
            continue
        factor = 1 + tolerance if metric in LOWER_IS_BETTER else 1 - tolerance
        ok, _ = compare(metric, scores[metric], base[metric] * factor)
        within = f"tolerance {100 * tolerance:.0f}%"
        # A pass does not quote the base's score: the committed report then changes only when
        # the verdict does, not each time the base branch trains (the comment's table shows both).
        detail = (
            f"{scores[metric]:.4g} here, within the {within} of {ref}"
            if ok
            else f"{scores[metric]:.4g} here, {base[metric]:.4g} on {ref} ({within})"
        )
        outcomes.append(Outcome("no regression", metric, passed(ok), detail))
    return outcomes


def baseline_estimator(params: Params) -> BaseEstimator:
    """What a model that learnt nothing predicts: class shares, or the mean."""
    if params.task == "classification":
        return DummyClassifier(strategy="prior")
    return DummyRegressor(strategy="mean")


def baseline_outcomes(scores: dict[str, float], params: Params) -> list[Outcome]:
    """The model must beat a dummy estimator, fitted and scored on the same data, by a margin.

    Higher-is-better metrics: by `beat_baseline_by` in the metric's units; lower-is-better
    ones (errors, log loss): by that share of the dummy's value.
    """
    metric, margin = primary_metric(params), params.model_tests.beat_baseline_by
    if metric not in scores:
        return [Outcome("baseline", metric, "skipped", f"{params.paths.metrics} has no {metric}")]
    if not params.paths.train.is_file():
        return [Outcome("baseline", metric, "skipped", f"no {params.paths.train} to fit the baseline on")]
    train_features, train_target = features_and_target(read_table(params.paths.train), params.data)
    test_features, test_target = features_and_target(read_table(params.paths.test), params.data)
    dummy = baseline_estimator(params).fit(train_features, train_target)
    baseline = score(dummy, test_features, test_target, params.task)[metric]
    if metric in LOWER_IS_BETTER:
        bound, how = baseline * (1 - margin), f"{100 * margin:.3g}% below"
    else:
        bound, how = baseline + margin, f"{margin:g} above"
    ok, text = compare(metric, scores[metric], bound)
    detail = f"{text}: {how} {type(dummy).__name__}({dummy.strategy})'s {baseline:.4g}"
    return [Outcome("baseline", metric, passed(ok), detail)]


def default_score_class(params: Params, classes: list[str]) -> str:
    """The rarest class of the training data (the later one on a tie), else the last class."""
    try:
        counts = read_table(params.paths.train)[params.data.target].astype(str).value_counts()
    except (OSError, KeyError, ValueError):
        return classes[-1]
    present = [label for label in classes if label in counts]
    if not present:
        return classes[-1]
    return min(reversed(present), key=lambda label: counts[label])


def multiclass_note(model: Pipeline, params: Params) -> str:
    """How a target of more than two classes is scored, for the report."""
    if params.task != "classification" or len(model.classes_) <= 2:
        return ""
    scored = markdown_code(params.model_tests.score_class)
    how = (
        f"invariance and directional tests use the probability of {scored}"
        if params.model_tests.score_class
        else "invariance tests use the total change of the class probabilities"
    )
    return (
        f"{len(model.classes_)} classes: balanced_accuracy and f1_macro are macro averages over the "
        f"classes, roc_auc is one-vs-rest; {how}."
    )


def model_score(model: Pipeline, features: pd.DataFrame, params: Params) -> np.ndarray:
    """Per row: the scored class's probability, or the predicted value.

    With more than two classes and no score_class: every class's probability (one row each),
    whose changes the behaviour tests add up.
    """
    if params.task == "regression":
        return np.asarray(model.predict(features), dtype=float)
    classes = [str(label) for label in model.classes_]
    if params.model_tests.score_class is None and len(classes) > 2:
        return model.predict_proba(features)
    scored = params.model_tests.score_class or default_score_class(params, classes)
    if scored not in classes:
        raise PipelineError(f"model_tests.score_class '{scored}' is not a class of the model: {classes}")
    return model.predict_proba(features)[:, classes.index(scored)]


def score_change(changed: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """How much each row's score moved: for class probabilities, half the sum of their changes."""
    moved = np.abs(changed - baseline)
    return moved.sum(axis=1) / 2 if moved.ndim == 2 else moved


def sanity_outcomes(model: Pipeline, features: pd.DataFrame, params: Params) -> list[Outcome]:
    """Predictions exist for every row and are numbers; probabilities are probabilities."""
    predicted = model.predict(features)
    outcomes = [
        Outcome(
            "sanity",
            "a prediction per row",
            passed(len(predicted) == len(features)),
            f"{len(predicted)} for {len(features)} rows",
        ),
        Outcome(
            "sanity",
            "no missing predictions",
            passed(not pd.isna(predicted).any()),
            f"{int(pd.isna(predicted).sum())} missing",
        ),
    ]
    if params.task == "classification":
        probabilities = model.predict_proba(features)
        in_range = bool(((probabilities >= 0) & (probabilities <= 1)).all())
        sums = np.abs(probabilities.sum(axis=1) - 1).max()
        outcomes.append(
            Outcome(
                "sanity",
                "probabilities in [0, 1]",
                passed(in_range),
                f"min {probabilities.min():.3g}, max {probabilities.max():.3g}",
            )
        )
        outcomes.append(
            Outcome("sanity", "probabilities sum to 1", passed(sums < 1e-6), f"largest gap {sums:.2g}")
        )
    unexpected = untrusted_types(params.paths.model)
    outcomes.append(
        Outcome(
            "sanity",
            "model loads with reviewed types only",
            passed(not unexpected),
            ", ".join(unexpected) or "skops, no untrusted types",
        )
    )
    return outcomes


def perturbed(features: pd.DataFrame, column: str, shift: float | None, seed: int) -> pd.DataFrame:
    """A copy with one column shifted by a constant, or shuffled across rows."""
    if column not in features:
        raise PipelineError(f"model_tests names column '{column}', which is not a model input")
    changed = features.copy()
    if shift is None:
        changed[column] = features[column].sample(frac=1, random_state=seed).to_numpy()
    else:
        changed[column] = features[column] + shift
    return changed


def behaviour_outcomes(model: Pipeline, features: pd.DataFrame, params: Params) -> list[Outcome]:
    """Invariance to irrelevant columns, and the directions params.yaml expects."""
    baseline, outcomes = model_score(model, features, params), []
    for case in params.model_tests.invariance:
        change = score_change(
            model_score(model, perturbed(features, case.column, case.shift, params.seed), params), baseline
        )
        how = f"+{case.shift:g}" if case.shift is not None else "shuffled"
        detail = f"mean change {change.mean():.4g} (largest {change.max():.4g}), tolerance {case.tolerance:g}"
        outcomes.append(
            Outcome("invariance", f"{case.column} {how}", passed(change.mean() <= case.tolerance), detail)
        )
    for case in params.model_tests.directional:
        moved = (
            model_score(model, perturbed(features, case.column, case.increase, params.seed), params)
            - baseline
        )
        ok = moved.mean() >= 0 if case.expect == "higher" else moved.mean() <= 0
        wrong = (moved < 0).mean() if case.expect == "higher" else (moved > 0).mean()
        detail = f"mean change {moved.mean():+.4g}; {100 * wrong:.0f}% of rows moved the other way"
        outcomes.append(
            Outcome("directional", f"{case.column} +{case.increase:g} → {case.expect}", passed(ok), detail)
        )
    return outcomes


def functionality_outcomes(model: Pipeline, features: pd.DataFrame, params: Params) -> list[Outcome]:
    """The cases a user declared as data: one row, one expected answer."""
    outcomes = []
    for case in params.model_tests.minimum_functionality:
        unknown = sorted(set(case.row) - set(features.columns))
        if unknown:
            raise PipelineError(
                f"model_tests case '{case.name}' names columns that are not inputs: {', '.join(unknown)}"
            )
        row = (
            pd.DataFrame([case.row])
            .reindex(columns=features.columns)
            .astype(features.dtypes.to_dict(), errors="ignore")
        )
        predicted = model.predict(row)[0]
        if case.expect is not None:
            ok, detail = str(predicted) == case.expect, f"predicted {predicted!s}, expected {case.expect}"
        elif case.between is not None:
            low, high = case.between
            ok, detail = low <= predicted <= high, f"predicted {predicted:.4g}, expected {low:g} to {high:g}"
        else:
            raise PipelineError(f"model_tests case '{case.name}' needs `expect` or `between`")
        outcomes.append(Outcome("minimum functionality", case.name, passed(ok), detail))
    return outcomes


def slice_table(
    model: Pipeline, features: pd.DataFrame, target: pd.Series, params: Params
) -> list[dict[str, Any]]:
    """The slice metric for each value of the slice column, with its row count."""
    gate = params.model_tests.slices
    if gate is None:
        return []
    if gate.metric not in SLICE_METRICS:
        raise PipelineError(
            f"model_tests.slices.metric '{gate.metric}' is not one of: {', '.join(SLICE_METRICS)}"
        )
    if gate.column not in features:
        raise PipelineError(f"model_tests.slices.column '{gate.column}' is not a model input")
    predicted = pd.Series(model.predict(features), index=features.index)
    overall = SLICE_METRICS[gate.metric](target, predicted.to_numpy())
    table = [{"value": "(all rows)", "rows": len(features), gate.metric: round(float(overall), 6)}]
    for value, rows in features.groupby(features[gate.column].fillna("(missing)")).groups.items():
        score = SLICE_METRICS[gate.metric](target.loc[rows], predicted.loc[rows].to_numpy())
        table.append({"value": str(value), "rows": len(rows), gate.metric: round(float(score), 6)})
    return table


def slice_outcomes(table: list[dict[str, Any]], params: Params) -> list[Outcome]:
    """The worst slice with enough rows against the bound."""
    gate = params.model_tests.slices
    if gate is None:
        return []
    overall = next((row for row in table if row["value"] == "(all rows)"), None)
    eligible = [row for row in table if row is not overall and row["rows"] >= gate.min_rows]
    if not eligible:
        return [Outcome("slices", f"worst {gate.column}", "skipped", f"no slice has {gate.min_rows} rows")]
    pick = max if gate.metric in LOWER_IS_BETTER else min
    worst = pick(eligible, key=lambda row: row[gate.metric])
    bounds = [] if gate.bound is None else [(gate.bound, "")]
    if gate.max_gap is not None and overall is not None:
        whole = overall[gate.metric]
        factor = 1 + gate.max_gap if gate.metric in LOWER_IS_BETTER else 1 - gate.max_gap
        # On a metric that can be negative (r2), a share of it is no bound: the gap is absolute.
        relative = whole * factor if whole > 0 else whole - gate.max_gap
        bounds.append((relative, f", {100 * gate.max_gap:.3g}% off all rows' {whole:.4g}"))
    strictest = (min if gate.metric in LOWER_IS_BETTER else max)(bounds, key=lambda pair: pair[0])
    ok, text = compare(gate.metric, worst[gate.metric], strictest[0])
    detail = f"{gate.metric} {text}{strictest[1]} on {gate.column}={worst['value']} ({worst['rows']} rows)"
    return [Outcome("slices", f"worst {gate.column}", passed(ok), detail)]


def latency_ms(model: Pipeline, features: pd.DataFrame, seed: int) -> dict[str, float]:
    """Median prediction time for one row and for a batch of 1,000 rows (reported, not asserted)."""
    batch = features.sample(n=BATCH_ROWS, replace=True, random_state=seed)
    timings = {}
    for name, rows in (("per_row", features.head(1)), ("per_batch_of_1000", batch)):
        runs = []
        for _ in range(LATENCY_REPEATS):
            start = time.perf_counter()
            model.predict(rows)
            runs.append(time.perf_counter() - start)
        timings[name] = round(1000 * float(np.median(runs)), 3)
    return timings


def verdict(outcomes: list[Outcome]) -> str:
    """The report's first line."""
    failed = sum(outcome.status == "failed" for outcome in outcomes)
    skipped = sum(outcome.status == "skipped" for outcome in outcomes)
    noted = f", {skipped} skipped" if skipped else ""
    if failed:
        return f"❌ {failed} model test{'s' * (failed != 1)} failed{noted}"
    return f"✅ all {len(outcomes) - skipped} model tests passed{noted}"


SYMBOLS = {"passed": "✅", "failed": "❌", "skipped": "⏭️"}


def summary(outcomes: list[Outcome], note: str = "") -> str:
    """The markdown a pull request comment includes as it is: failures first."""
    ordered = sorted(outcomes, key=lambda outcome: ["failed", "skipped", "passed"].index(outcome.status))
    # Names and details quote the data (columns, slice values, class labels): plain text only.
    rows = [
        [SYMBOLS[o.status], o.group, markdown_text(o.name), markdown_text(o.detail, 300)] for o in ordered
    ]
    table = markdown_table(["", "test", "case", "result"], rows)
    return f"{verdict(outcomes)}\n\n{table}" + (f"\n{note}\n" if note else "")


def current_metrics(params: Params, tested: dict[str, dict[str, str]]) -> dict[str, float]:
    """The evaluate stage's metrics, refused unless they were computed for the model and data under test."""
    metrics_path, provenance_path = params.paths.metrics, params.paths.metrics_provenance
    if not metrics_path.is_file():
        raise PipelineError(f"no {metrics_path}: run the pipeline first (make pipeline)")
    recorded = {}
    if provenance_path.is_file():
        recorded = json.loads(provenance_path.read_text(encoding="utf-8")).get(COMPUTED_FOR) or {}
    for key, used in tested.items():
        md5 = (recorded.get(key) or {}).get("md5")
        if md5 != used["md5"]:
            raise PipelineError(
                f"{metrics_path} was computed for another {key} ({provenance_path} records md5 "
                f"{md5 or 'none'}, {used['path']} is {used['md5']}), so its gates would judge another "
                "model: run `make pipeline` (its evaluate stage) to score this model, then `make test-model`"
            )
    return json.loads(metrics_path.read_text(encoding="utf-8"))


def run_model_tests(
    params: Params, tested: dict[str, dict[str, str]] | None = None
) -> tuple[list[Outcome], list[dict[str, Any]], dict[str, float]]:
    """Every model test, the slice table and the latency figures."""
    tested = tested or computed_for(params.paths.model, params.paths.test)
    scores = current_metrics(params, tested)
    model = load_model(params.paths.model)
    features, target = features_and_target(read_table(params.paths.test), params.data)
    classes = [str(label) for label in model.classes_] if params.task == "classification" else None
    check_model_tests(params, list(features.columns), classes)
    slices = slice_table(model, features, target, params)
    outcomes = [
        *sanity_outcomes(model, features, params),
        *baseline_outcomes(scores, params),
        *gate_outcomes(scores, params.model_tests.gates),
        *regression_outcomes(scores, params),
        *behaviour_outcomes(model, features, params),
        *functionality_outcomes(model, features, params),
        *slice_outcomes(slices, params),
    ]
    return outcomes, slices, latency_ms(model, features, params.seed)


def main() -> None:
    params = load_params()
    # The md5s of the files the tests read, as dvc.lock records them: promotion and deploy
    # accept this report only for the model and test data it names.
    tested = computed_for(params.paths.model, params.paths.test)
    outcomes, slices, latency = run_model_tests(params, tested)
    note = multiclass_note(load_model(params.paths.model), params)
    report = {
        "passed": all(outcome.status != "failed" for outcome in outcomes),
        COMPUTED_FOR: tested,
        "verdict": verdict(outcomes),
        "base_ref": base_branch(params),
        "tests": [asdict(outcome) for outcome in outcomes],
        "slices": slices,
        **({"note": note} if note else {}),
    }
    # Latency differs on every run, so it stays out of the git-tracked reports: a commit of
    # the results would otherwise never be "unchanged".
    outputs = (params.paths.model_tests, params.paths.model_tests_summary, params.paths.latency)
    with atomic_paths(*outputs) as (json_out, markdown_out, latency_out):
        json_out.write_text(json_text(report), encoding="utf-8")
        markdown_out.write_text(summary(outcomes, note), encoding="utf-8")
        latency_out.write_text(json_text(latency), encoding="utf-8")
    failed = [outcome for outcome in outcomes if outcome.status == "failed"]
    for outcome in outcomes:
        if outcome.status == "skipped":
            print(f"model-tests: skipped {outcome.group} {outcome.name}: {outcome.detail}")
    if failed:
        listed = "\n".join(f"  {o.group} {o.name}: {o.detail}" for o in failed)
        raise PipelineError(
            f"{verdict(outcomes)[2:]} (details in {params.paths.model_tests_summary}):\n{listed}"
        )
    print(
        f"model-tests: {verdict(outcomes)[2:]}; latency {latency['per_row']:.3g} ms per row, "
        f"{latency['per_batch_of_1000']:.3g} ms per batch of {BATCH_ROWS:,}"
    )
