"""Command `rollout-report`: is the candidate fit for all the traffic? It and the primary, from the log.

For each version: requests, failures, and its scoring latency (p50, p99). Their predictions:
on the same requests when the candidate was a shadow (agreement row by row), else on each one's
own traffic (canary, ab) as distributions: 1 - the total variation distance between predicted
class shares, or for regression the difference of mean predictions in the primary's standard
deviations. Input drift between their traffic, per column: the Kolmogorov-Smirnov statistic for
numbers, the total variation distance for categories; plain distances in [0, 1], cheap on a
log's rows (Evidently's reports are `make monitor`'s). Sensitive and unique columns are skipped.
Two samples differ by chance, the more so the smaller they are: the check is on the largest
distance less that noise (the two-sample KS test's 1% critical value for the two row counts).
The verdict passes when every check keeps serving.rollout's thresholds: `make rollout-finish`
needs it before the candidate becomes primary (registry/policy.py).
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import Params, RolloutParams, load_params
from ..data.schema import load_schema
from ..errors import PipelineError
from ..outputs import atomic_paths, json_text, markdown_code, markdown_table
from ..registry.rollout import REPORT_FILE, rolling

ANSWERING = ("stable", "candidate")
KS_ONE_PERCENT = 1.628  # c(0.01) of the two-sample Kolmogorov-Smirnov test


@dataclass(frozen=True)
class Side:
    """One version's entries in the log."""

    version: str
    entries: list[dict[str, Any]]

    @property
    def answered(self) -> list[dict[str, Any]]:
        return [entry for entry in self.entries if "error" not in entry]

    def stats(self) -> dict[str, Any]:
        latencies = [entry["latency_ms"] for entry in self.entries if entry.get("latency_ms") is not None]
        errors = len(self.entries) - len(self.answered)
        return {
            "version": self.version,
            "requests": len(self.entries),
            "rows": sum(len(entry["inputs"]) for entry in self.entries),
            "errors": errors,
            "error_rate": errors / len(self.entries) if self.entries else 0.0,
            "p50_ms": float(np.percentile(latencies, 50)) if latencies else None,
            "p99_ms": float(np.percentile(latencies, 99)) if latencies else None,
        }

    def predictions(self) -> list[Any]:
        return [value for entry in self.answered for value in entry["outputs"].get("predictions", [])]

    def inputs(self) -> pd.DataFrame:
        return pd.DataFrame([row for entry in self.entries for row in entry["inputs"]])


def read_entries(directory: Path) -> list[dict[str, Any]]:
    """Every entry of the daily logs, oldest file first."""
    files = sorted(directory.glob("predictions-*.jsonl"))
    if not files:
        raise PipelineError(
            f"no prediction log in {directory}: serve the rollout first (make serve STAGE=...)"
        )
    entries = []
    for path in files:
        with path.open(encoding="utf-8") as lines:
            entries.extend(json.loads(line) for line in lines if line.strip())
    return entries


def versions_from_log(entries: list[dict[str, Any]]) -> tuple[str, str]:
    """The latest candidate (or shadow) in the log, and the latest version that answered as stable."""
    latest = {entry["role"]: entry["model_version"] for entry in entries}
    candidate = latest.get("candidate") or latest.get("shadow")
    if candidate is None or "stable" not in latest:
        raise PipelineError("the prediction log shows no candidate beside a primary: serve a rollout first")
    return latest["stable"], candidate


def sides(entries: list[dict[str, Any]], primary: str, candidate: str) -> tuple[Side, Side]:
    """The primary's answers, and everything the candidate scored (answers or shadow copies)."""
    first = Side(primary, [e for e in entries if e["model_version"] == primary and e["role"] in ANSWERING])
    second = Side(candidate, [e for e in entries if e["model_version"] == candidate])
    return first, second


def paired(primary: Side, candidate: Side) -> list[tuple[Any, Any]]:
    """Predictions of both versions for the same rows: the requests a shadow scored too."""
    answers = {entry["request_id"]: entry["outputs"].get("predictions", []) for entry in primary.answered}
    pairs = []
    for entry in candidate.answered:
        if entry["request_id"] in answers:
            pairs.extend(zip(answers[entry["request_id"]], entry["outputs"]["predictions"], strict=False))
    return pairs


def shares(values: pd.Series) -> pd.Series:
    return values.astype(str).value_counts(normalize=True)


def variation_distance(first: pd.Series, second: pd.Series) -> float:
    """Total variation distance between two samples' category shares, in [0, 1]."""
    one, two = shares(first).align(shares(second), fill_value=0.0)
    return float((one - two).abs().sum() / 2)


def ks_statistic(first: np.ndarray, second: np.ndarray) -> float:
    """Largest gap between the two samples' cumulative distributions, in [0, 1]."""
    points = np.sort(np.concatenate([first, second]))
    below_one = np.searchsorted(np.sort(first), points, side="right") / len(first)
    below_two = np.searchsorted(np.sort(second), points, side="right") / len(second)
    return float(np.max(np.abs(below_one - below_two)))


def agreement(task: str, primary: Side, candidate: Side) -> tuple[str, float, str]:
    """How close the candidate's predictions are: (measure, value, compared on what)."""
    pairs = paired(primary, candidate)
    first = pd.Series(primary.predictions(), dtype=object)
    if task == "classification":
        if pairs:
            return "agreement", sum(a == b for a, b in pairs) / len(pairs), f"the same {len(pairs)} rows"
        value = 1 - variation_distance(first, pd.Series(candidate.predictions(), dtype=object))
        return "agreement", value, "each version's own traffic (class shares)"
    spread = float(pd.to_numeric(first).std()) or 1.0
    if pairs:
        gaps = [abs(float(a) - float(b)) for a, b in pairs if a is not None and b is not None]
        return "prediction shift", float(np.mean(gaps)) / spread, f"the same {len(pairs)} rows"
    second = pd.to_numeric(pd.Series(candidate.predictions(), dtype=object))
    shift = abs(float(second.mean()) - float(pd.to_numeric(first).mean())) / spread
    return "prediction shift", shift, "each version's own traffic (means)"


def input_drift(params: Params, primary: Side, candidate: Side) -> dict[str, float]:
    """Per column, the distance between the inputs each version saw."""
    schema = load_schema(params.paths.data_schema)
    first, second = primary.inputs(), candidate.inputs()
    skipped = {params.data.target, *params.data.drop_columns}
    drift = {}
    for column, rules in schema.columns.items():
        if (
            rules.sensitive
            or rules.unique
            or column in skipped
            or column not in first
            or column not in second
        ):
            continue
        one, two = first[column].dropna(), second[column].dropna()
        if one.empty or two.empty:
            continue
        if rules.dtype in ("integer", "number"):
            drift[column] = ks_statistic(one.to_numpy(float), two.to_numpy(float))
        else:
            drift[column] = variation_distance(one, two)
    return drift


def sampling_noise(rows: int, other_rows: int) -> float:
    """The distance two samples of these sizes from one distribution exceed only 1% of the time."""
    if not rows or not other_rows:
        return 1.0
    return KS_ONE_PERCENT * math.sqrt((rows + other_rows) / (rows * other_rows))


def check(name: str, value: float | None, bound: float, at_least: bool = False) -> dict[str, Any]:
    passed = value is not None and (value >= bound if at_least else value <= bound)
    return {"name": name, "value": value, "bound": bound, "at_least": at_least, "passed": passed}


def compare(params: Params, entries: list[dict[str, Any]], primary: str, candidate: str) -> dict[str, Any]:
    """The report: each version's figures, the checks against serving.rollout, and the verdict."""
    limits: RolloutParams = params.serving.rollout
    first, second = sides(entries, primary, candidate)
    one, two = first.stats(), second.stats()
    measure, closeness, basis = (
        agreement(params.task, first, second)
        if first.answered and second.answered
        else (
            "agreement" if params.task == "classification" else "prediction shift",
            None,
            "nothing: one version answered nothing",
        )
    )
    drift = input_drift(params, first, second) if first.entries and second.entries else {}
    ratio = two["p99_ms"] / one["p99_ms"] if one["p99_ms"] and two["p99_ms"] is not None else None
    noise = sampling_noise(one["rows"], two["rows"])
    beyond_noise = max(max(drift.values(), default=0.0) - noise, 0.0)
    checks = [
        check("requests", min(one["requests"], two["requests"]), limits.min_requests, at_least=True),
        check(measure, closeness, limits.min_agreement, at_least=True)
        if measure == "agreement"
        else check(measure, closeness, limits.max_prediction_shift),
        check("error rate", two["error_rate"], limits.max_error_rate),
        check("p99 latency ratio", ratio, limits.max_latency_ratio),
        check("input drift beyond noise", beyond_noise, limits.max_input_drift),
    ]
    return {
        "primary": one,
        "candidate": two,
        "compared_on": basis,
        "checks": checks,
        "input_drift": dict(sorted(drift.items(), key=lambda item: -item[1])),
        "input_drift_noise": noise,
        "verdict": "pass" if all(entry["passed"] for entry in checks) else "fail",
    }


def shown(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def markdown(report: dict[str, Any]) -> str:
    """The report for people: verdict first, then the checks, the versions, the drift."""
    primary, candidate = report["primary"], report["candidate"]
    lines = [
        f"# Rollout: {markdown_code(candidate['version'])} against {markdown_code(primary['version'])}",
        "",
        f"**Verdict: {report['verdict']}** (`make rollout-finish` needs pass). "
        f"Predictions compared on {report['compared_on']}.",
        "",
        markdown_table(
            ["check", "value", "bound", "passed"],
            [
                [
                    entry["name"],
                    shown(entry["value"]),
                    ("≥ " if entry["at_least"] else "≤ ") + shown(entry["bound"]),
                    "yes" if entry["passed"] else "**no**",
                ]
                for entry in report["checks"]
            ],
        ),
        markdown_table(
            ["version", "requests", "rows", "errors", "p50 ms", "p99 ms"],
            [
                [
                    f"{role}: {markdown_code(side['version'])}",
                    str(side["requests"]),
                    str(side["rows"]),
                    str(side["errors"]),
                    shown(side["p50_ms"]),
                    shown(side["p99_ms"]),
                ]
                for role, side in (("primary", primary), ("candidate", candidate))
            ],
        ),
    ]
    drift = report["input_drift"]
    if drift:
        rows = [[markdown_code(column), shown(value)] for column, value in drift.items()]
        noise = shown(report["input_drift_noise"])
        lines.append(f"Input drift per column; {noise} is sampling noise at these row counts.\n")
        lines.append(markdown_table(["input column", "distance (KS or TVD)"], rows))
    return "\n".join(lines)


def stage_rollout(stage: str) -> tuple[str, str, datetime]:
    """The versions a stage is rolling out between, from the registry, and when the rollout began."""
    from ..registry.policy import rollout_state  # GTO: only when a stage is named
    from ..registry.versions import known_stages, registry_events

    known_stages(stage)
    rolling(stage)
    rollout = rollout_state(registry_events(), stage)
    if rollout is None or rollout.candidate is None:
        held = rollout.primary.version if rollout else "nothing"
        raise PipelineError(f"{stage} has no rollout in progress: it holds {held} alone")
    return rollout.primary.version, rollout.candidate.version, rollout.candidate.timestamp


def parser() -> argparse.ArgumentParser:
    command = argparse.ArgumentParser(
        prog=f"python -m {__package__.rsplit('.', 1)[0]} rollout-report", description=__doc__
    )
    command.add_argument(
        "--stage", help="compare the versions this stage is rolling out (default: the log's latest)"
    )
    return command


def main(argv: list[str]) -> None:
    arguments = parser().parse_args(argv)
    params = load_params()
    entries = read_entries(params.serving.log_dir)
    if arguments.stage:  # only the traffic since the promotion: the same versions may have met before
        primary, candidate, began = stage_rollout(arguments.stage)
        entries = [
            entry
            for entry in entries
            if entry.get("stage", arguments.stage) == arguments.stage  # other stages' servers log here too
            and datetime.fromisoformat(entry["time"]) >= began
        ]
    else:
        primary, candidate = versions_from_log(entries)
    report = {"stage": arguments.stage, **compare(params, entries, primary, candidate)}
    directory = params.serving.rollout.report
    written = directory / REPORT_FILE
    with atomic_paths(written, written.with_suffix(".md")) as (as_json, as_markdown):
        as_json.write_text(json_text(report), encoding="utf-8")
        as_markdown.write_text(markdown(report), encoding="utf-8")
    print(markdown(report), end="")
    print(f"rollout-report: {report['verdict']}: {written.with_suffix('.md')} and {written.name}")
