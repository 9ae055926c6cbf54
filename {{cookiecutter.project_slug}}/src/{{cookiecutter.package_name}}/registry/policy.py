"""The promotion policy, written once: which stage assignments may be acted on, and why not.

`make promote` checks it before it pushes a stage tag, and `make deploy` checks it again before
it fetches anything, because anyone who can push a tag can write `model#prod#N` by hand. A stage
assignment keeps the policy when:

- its version is a registration tag of this repository (`model@vX.Y.Z`) on the same commit;
- the model tests committed at that commit passed, and were computed for that commit's model
  and test data (the md5s dvc.lock records); so were the metrics;
- it keeps the stage order: the last stage takes only a version that was in the stage before.

The last two may be overridden by a line `override: <reason>` in the tag message
(`make promote ... OVERRIDE='reason'` writes it); deploy and `make history` show it.
An unregistered version cannot be overridden: register it first.

Under a rolling strategy (canary, ab, shadow) a promotion makes the new version the stage's
candidate; it becomes primary only by `make rollout-finish`, which needs a passing rollout
report comparing exactly those two versions (or an override with a reason).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from ..model.provenance import COMPUTED_FOR
from ..repo.git import file_at
from .artifact import ARTIFACT, committed_yaml, recorded_md5

# The documented marker, on a line of its own in the tag message.
OVERRIDE = re.compile(r"^override:[ \t]*(?P<reason>\S.*?)\s*$", re.MULTILINE)
# How a promotion's tag message starts: under a rolling strategy, the start of a rollout.
PROMOTE = "Promote"


@dataclass(frozen=True)
class Event:
    """One registry tag: a registration (`model@v1.0.0`) or an assignment (`model#prod#3`)."""

    kind: str
    version: str
    stage: str | None
    commit: str
    tag: str
    message: str
    timestamp: datetime

    @property
    def counter(self) -> int:
        """GTO's sequence number of an assignment tag (0 for others), which breaks ties in time."""
        found = re.search(r"#(\d+)$", self.tag)
        return int(found.group(1)) if found else 0


@dataclass(frozen=True)
class Violation:
    """One broken rule: which, why, and whether an `override:` line may let it pass."""

    rule: str
    reason: str
    overridable: bool = True


@dataclass(frozen=True)
class Results:
    """What a commit records about its own model: dvc.lock's md5s and the committed results."""

    model_path: str
    model_md5: str | None
    data_path: str
    data_md5: str | None
    model_tests_path: str
    model_tests: str | None
    metrics_path: str
    metrics_provenance_path: str
    metrics_provenance: str | None


def registrations(events: list[Event]) -> dict[str, Event]:
    """Registered versions, oldest first."""
    return {event.version: event for event in events if event.kind == "registration"}


def gate_stage(stages: list[str], stage: str) -> str | None:
    """The stage a version must have been in before this one: the last stage needs the one before."""
    if len(stages) >= 2 and stage == stages[-1]:
        return stages[-2]
    return None


def was_in(events: list[Event], version: str, stage: str) -> bool:
    """Whether the version was ever assigned to the stage."""
    return any(
        event.kind == "assignment" and event.stage == stage and event.version == version for event in events
    )


def override_reason(message: str) -> str | None:
    """The reason of an `override: <reason>` line in a tag message, if there is one."""
    found = OVERRIDE.search(message or "")
    return found.group("reason") if found else None


def committed_results(commit: str) -> Results:
    """Read a commit's dvc.lock md5s and its committed results, with the paths its params.yaml names."""
    paths = committed_yaml(commit, "params.yaml").get("paths", {})
    model = committed_yaml(commit, "dvc.yaml").get("artifacts", {}).get(ARTIFACT, {}).get("path", "")
    model = model or paths.get("model", "models/model.skops")
    data = paths.get("test", "data/processed/test.csv")
    model_tests = paths.get("model_tests", "reports/model_tests.json")
    metrics = paths.get("metrics", "reports/metrics.json")
    provenance = paths.get("metrics_provenance", "reports/metrics_provenance.json")
    return Results(
        model_path=model,
        model_md5=recorded_md5(commit, model),
        data_path=data,
        data_md5=recorded_md5(commit, data),
        model_tests_path=model_tests,
        model_tests=file_at(commit, model_tests),
        metrics_path=metrics,
        metrics_provenance_path=provenance,
        metrics_provenance=file_at(commit, provenance),
    )


def mismatches(recorded: object, results: Results) -> list[str]:
    """How a result's `computed_for` differs from the commit's model and test data (empty: it matches)."""
    if not isinstance(recorded, dict):
        return ["it does not say which model and data it was computed for"]
    found = []
    for key, path, expected in (
        ("model", results.model_path, results.model_md5),
        ("data", results.data_path, results.data_md5),
    ):
        entry = recorded.get(key)
        md5 = entry.get("md5") if isinstance(entry, dict) else None
        if md5 != expected:
            found.append(
                f"its {key} md5 is {md5 or 'missing'}, dvc.lock records {expected or 'none'} for {path}"
            )
    return found


def results_violations(version: str, commit: str, results: Results) -> list[Violation]:
    """The model tests must have passed for exactly this commit's model and data; the metrics too."""
    where = f"{results.model_tests_path} at {commit[:7]}"
    refresh = f"run `make test-model` on that commit and commit {results.model_tests_path}"
    if results.model_tests is None:
        return [
            Violation(
                "model tests",
                f"{version} has no model test results ({results.model_tests_path} is not in its commit "
                f"{commit[:7]}): {refresh}",
            )
        ]
    try:
        report = json.loads(results.model_tests)
        passed = report.get("passed")
    except (json.JSONDecodeError, AttributeError) as error:
        return [Violation("model tests", f"{where} is not a model test report: {error}")]
    found = []
    if passed is not True:
        found.append(Violation("model tests", f"the model tests failed for {version} ({where})"))
    stale = mismatches(report.get(COMPUTED_FOR), results)
    if stale:
        found.append(
            Violation(
                "model tests",
                f"{where} describes another model than {version}'s ({'; '.join(stale)}): {refresh}",
            )
        )
    metrics_where = f"{results.metrics_provenance_path} at {commit[:7]}"
    try:
        provenance = json.loads(results.metrics_provenance or "null")
    except json.JSONDecodeError:
        provenance = None
    stale = mismatches(provenance.get(COMPUTED_FOR) if isinstance(provenance, dict) else None, results)
    if stale:
        found.append(
            Violation(
                "metrics",
                f"{results.metrics_path} at {commit[:7]} was not computed for {version}'s model "
                f"({metrics_where}: {'; '.join(stale)}): run `make pipeline` on that commit and commit "
                "dvc.lock and reports/",
            )
        )
    return found


def violations(
    events: list[Event], stages: list[str], version: str, stage: str, commit: str, results: Results
) -> list[Violation]:
    """Every rule a stage assignment breaks, given the registry events that came before it."""
    registered = registrations(events).get(version)
    if registered is None:
        listed = ", ".join(registrations(events)) or "none"
        return [
            Violation(
                "registered",
                f"'{version}' (commit {commit[:7]}) is not a registered version of this repository: no "
                f"{ARTIFACT}@vX.Y.Z tag names it (registered: {listed}); register the model "
                "(`make register` on main) and promote the version with `make promote`",
                overridable=False,
            )
        ]
    if registered.commit != commit:
        return [
            Violation(
                "registered",
                f"{version} is registered at commit {registered.commit[:7]}, not at {commit[:7]}",
                overridable=False,
            )
        ]
    found = results_violations(version, commit, results)
    gate = gate_stage(stages, stage)
    if gate and not was_in(events, version, gate):
        found.append(
            Violation("stage order", f"{version} has never been in {gate}: promote it to {gate} first")
        )
    return found


def explain(violations_found: list[Violation]) -> str:
    """The reasons, one per line after the first."""
    return "\n  ".join(violation.reason for violation in violations_found)


@dataclass(frozen=True)
class Rollout:
    """A stage's primary version and, while a promotion is rolling out, its candidate."""

    stage: str
    primary: Event
    candidate: Event | None


def rollout_state(events: list[Event], stage: str) -> Rollout | None:
    """A promotion rolls out until its version is assigned again (finished) or another is (rolled back)."""
    held = [event for event in events if event.kind == "assignment" and event.stage == stage]
    if not held:
        return None
    last = held[-1]
    if len(held) >= 2 and last.message.startswith(PROMOTE) and held[-2].version != last.version:
        return Rollout(stage, held[-2], last)
    return Rollout(stage, last, None)


def rollout_violations(report: str | None, where: str, rollout: Rollout) -> list[Violation]:
    """The candidate may take all the traffic once a rollout report of these two versions passed."""
    candidate = rollout.candidate.version if rollout.candidate else rollout.primary.version
    primary = rollout.primary.version
    refresh = f"let the candidate serve, then run `make rollout-report STAGE={rollout.stage}`"
    if report is None:
        return [Violation("rollout report", f"no rollout report at {where}: {refresh}")]
    try:
        found = json.loads(report)
        compared = (found["primary"]["version"], found["candidate"]["version"])
        verdict = found["verdict"]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        return [Violation("rollout report", f"{where} is not a rollout report ({error}): {refresh}")]
    if compared != (primary, candidate):
        return [
            Violation(
                "rollout report",
                f"{where} compares {compared[1]} with {compared[0]}, "
                f"not {candidate} with {primary}: {refresh}",
            )
        ]
    if verdict != "pass":
        failed = ", ".join(check["name"] for check in found.get("checks", []) if not check.get("passed"))
        return [
            Violation("rollout report", f"the rollout report of {candidate} failed ({failed}), see {where}")
        ]
    return []
