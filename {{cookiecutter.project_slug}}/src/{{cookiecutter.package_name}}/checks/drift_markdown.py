"""Drift findings as markdown a reviewer reads at a glance: a verdict line, then a table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..outputs import markdown_code, markdown_table, markdown_text

if TYPE_CHECKING:
    from .drift_findings import ColumnDrift, DriftSummary

NOISE_FLOOR_NOTE = (
    "A threshold marked (noise floor) is what sampling alone reaches between tables of these sizes "
    "(in `drift.noise_rounds` draws from the reference; rarely enough that a batch is flagged by chance "
    "at most `drift.false_alarm_rate` of the time), as it is above params.yaml's."
)
NO_REFERENCE_HINT = "`make drift-reference BASE=main` fetches the base branch's data"
NOTE_CHARACTERS = 400  # a note lists column names: longer than one name, still bounded


def listed(names: list[str]) -> str:
    return ", ".join(markdown_code(name) for name in names)


def verdict(summary: DriftSummary) -> str:
    """One line that says whether anything drifted, for the top of a PR comment or an issue."""
    if summary.status == "no_reference":
        return f"ℹ️ no drift check: there is no reference data yet; {NO_REFERENCE_HINT}"  # noqa: RUF001
    if summary.status == "unchanged":
        return f"✅ no drift: the data is identical to {summary.reference}"
    if summary.status == "no_common_columns":
        return "ℹ️ no drift check: the schema changed, no column is in both tables (see the notes)"  # noqa: RUF001
    drifted, total = summary.drifted_columns, len(summary.columns)
    columns = f"{len(drifted)} of {total} columns" + (f" ({listed(drifted)})" if drifted else "")
    predictions_drifted = bool(summary.prediction and summary.prediction.drifted)
    if summary.dataset_drift:
        return f"⚠️ drift in {columns}" + ("; predictions drifted" if predictions_drifted else "")
    if predictions_drifted:
        return f"⚠️ predictions drifted; {columns} drifted"
    changed = (
        "; the schema changed: columns were added or removed (see the notes)"
        if summary.schema_changed
        else ""
    )
    if drifted:
        share = format(summary.drift_share, ".0%")
        return f"✅ no drift: {columns} drifted, below the {share} threshold{changed}"
    return f"✅ no drift: 0 of {total} columns drifted{changed}"


def all_columns(summary: DriftSummary) -> list[ColumnDrift]:
    return [*summary.columns, *([summary.prediction] if summary.prediction else [])]


def table_row(column: ColumnDrift, label: str) -> list[str]:
    mark = "⚠️ yes" if column.drifted else "no"
    kind, method = markdown_text(column.kind), markdown_text(column.method)
    floored = column.threshold_source == "noise floor"
    threshold = f"{column.threshold:.3g}" + (" (noise floor)" if floored else "")
    return [label, kind, method, f"{column.score:.4g}", threshold, mark]


def drift_table(summary: DriftSummary, only_drifted: bool = False) -> list[str]:
    """Model predictions first, then the columns, drifted ones first."""
    rows = []
    if summary.prediction:
        rows.append(table_row(summary.prediction, f"{markdown_code(summary.prediction.column)} (model)"))
    for column in sorted(summary.columns, key=lambda column: not column.drifted):
        if column.drifted or not only_drifted:
            rows.append(table_row(column, markdown_code(column.column)))
    header = ["column", "type", "test", "score", "threshold", "drifted"]
    return markdown_table(header, rows).splitlines()


def notes(summary: DriftSummary) -> list[str]:
    """The notes are data (column names, library errors): listed as plain text."""
    return [f"- {markdown_text(note, NOTE_CHARACTERS)}" for note in summary.notes]


def compared_line(summary: DriftSummary) -> str:
    """Which tables were compared, and how many of their rows after the sample cap."""
    rows = summary.rows
    line = (
        f"Compared {summary.current} ({rows['current']} rows) "
        f"with {summary.reference} ({rows['reference']} rows)"
    )
    if (rows["current_compared"], rows["reference_compared"]) != (rows["current"], rows["reference"]):
        line += f", sampled to {rows['current_compared']} and {rows['reference_compared']} rows"
    return line + "."


def drift_markdown(summary: DriftSummary) -> str:
    """drift.md: the verdict, what was compared, and the per-column table."""
    lines = [verdict(summary), ""]
    if summary.status == "compared":
        lines += [compared_line(summary), "", *drift_table(summary), ""]
        if any(column.threshold_source == "noise floor" for column in all_columns(summary)):
            lines += [NOISE_FLOOR_NOTE, ""]
    lines += notes(summary)
    return "\n".join(lines).rstrip() + "\n"


def issue_markdown(
    summary: DriftSummary, source: str, checked_at: str, since: str | None, full_report: str
) -> str:
    """The body of the GitHub issue the monitor workflow opens or updates; `full_report` is markdown
    that says where drift.html is."""
    lines = [
        "## Production data drift" if summary.drift_detected else "## Production data: no drift",
        "",
        verdict(summary),
        "",
        f"- Batch: {markdown_code(source)} ({summary.rows['current']} rows)",
        f"- Compared with: the training data, {summary.reference} ({summary.rows['reference']} rows)",
        f"- Checked at: {checked_at}",
    ]
    if since:
        lines.append(f"- Drifting since: {since}")
    lines += [f"- Full report: {full_report}", ""]
    if summary.drift_detected:
        lines += ["What drifted, and by how much:", "", *drift_table(summary, only_drifted=True), ""]
    lines += notes(summary)
    if since:
        lines.append(f"<!-- drift-since: {since} -->")
    return "\n".join(lines).rstrip() + "\n"
