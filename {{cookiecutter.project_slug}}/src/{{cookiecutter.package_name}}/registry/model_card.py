"""The model card: what an auditor needs to know about a deployed version, without running anything."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

NOT_RUN = "_Not run for this version._"


@dataclass(frozen=True)
class CardFacts:
    """Everything the card shows, read from the version's commit and the registry."""

    name: str
    description: str
    version: str
    stage: str
    tag: str
    commit: str
    model_path: str
    md5: str
    size: int
    params: Mapping[str, Any]
    metrics: Mapping[str, float]
    model_description: Mapping[str, Any]
    # Markdown reports by title (model tests, validation, drift); None when not run.
    reports: Mapping[str, str | None] = field(default_factory=dict)
    # Registry events as `gto history` shows them, oldest first.
    history: Sequence[Mapping[str, str]] = ()


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table."""
    lines = [f"| {' | '.join(header)} |", f"|{'---|' * len(header)}"]
    lines += [f"| {' | '.join(str(cell) for cell in row)} |" for row in rows]
    return "\n".join(lines)


def nested(report: str) -> str:
    """A report's markdown under the card's heading: its own title dropped, its sections one level down."""
    body = re.sub(r"\A# [^\n]*\n", "", report.strip() + "\n")
    return re.sub(r"^(#{1,5}) ", r"#\1 ", body.strip(), flags=re.MULTILINE)


def summary(facts: CardFacts) -> str:
    description = facts.model_description
    rows = [
        ("Artifact", f"`{facts.name}`: {facts.description}"),
        ("Version", f"{facts.version} (tag `{facts.tag}`)"),
        ("Stage", facts.stage),
        ("Commit", f"`{facts.commit}`"),
        ("Model file", f"`{facts.model_path}`, md5 `{facts.md5}`, {facts.size} bytes"),
        ("Task", f"{facts.params.get('task', '?')}, target `{description.get('target', '?')}`"),
        ("Estimator", f"{description.get('estimator', '?')}"),
    ]
    if "classes" in description:
        rows.append(("Classes", ", ".join(description["classes"])))
    return table(("", ""), rows)


def data_section(facts: CardFacts) -> str:
    description = facts.model_description
    training = description.get("training_data", {})
    source = facts.params.get("data", {}).get("source", "?")
    lines = [
        f"Source: `{source}`. Trained on {training.get('rows', '?')} rows of `{training.get('path', '?')}` "
        f"(md5 `{training.get('md5', '?')}`).",
        "",
        table(("feature", "type"), sorted(description.get("features", {}).items())),
    ]
    versions = description.get("versions")
    if versions:
        lines += [
            "",
            "Built with " + ", ".join(f"{name} {number}" for name, number in versions.items()) + ".",
        ]
    return "\n".join(lines)


def history_section(facts: CardFacts) -> str:
    rows = [
        (
            event["timestamp"],
            event["event"],
            event["version"],
            event.get("stage") or "",
            f"`{event['tag']}`",
            event["message"],
        )
        for event in facts.history
    ]
    return (
        table(("when (UTC)", "event", "version", "stage", "tag", "message"), rows) if rows else "_No events._"
    )


def render(facts: CardFacts) -> str:
    """The card as markdown."""
    metrics = (
        table(("metric", "value"), sorted(facts.metrics.items()))
        if facts.metrics
        else "_No metrics recorded._"
    )
    sections = [
        f"# Model card: {facts.name} {facts.version} ({facts.stage})",
        summary(facts),
        "## Metrics on the held-out test set",
        metrics,
        "## Training data",
        data_section(facts),
        "## Parameters",
        f"```yaml\n{yaml.safe_dump(dict(facts.params), sort_keys=False).strip()}\n```",
    ]
    for title, report in facts.reports.items():
        sections += [f"## {title}", nested(report) if report else NOT_RUN]
    sections += ["## Registry history", history_section(facts)]
    return "\n\n".join(sections) + "\n"
