"""Command `monitor`: compare a production batch with the data the deployed model was trained on,
and the model's predictions on it with those on the test split, which the model never saw either.

Exit status: 0 when the batch is in line with the training data, 3 when drift crosses the
thresholds of params.yaml (the reports then hold an issue body), 1 on errors. A batch that
carries the target column is labelled: the model is scored on it too, and a gated metric that
dropped (feedback/performance.py) also exits 3.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import pandas as pd

from ..config import CsvParams, DownloadParams, Params, load_params
from ..data.ingest import is_url, read_source
from ..errors import PipelineError
from ..model.store import load_model
from ..outputs import markdown_code
from ..repo.github import run_url
from ..tables import read_table
from .drift import compare, write_reports
from .drift_markdown import issue_markdown, verdict
from .performance import performance

DRIFT_STATUS = 3
ISSUE_FILE = "issue.md"
SINCE_MARKER = re.compile(r"<!-- drift-since: (\S+) -->")


def read_batch(
    source: str, limits: DownloadParams | None = None, options: CsvParams | None = None
) -> pd.DataFrame:
    """Read a production batch from a path or URL (within download limits); missing or empty is an error."""
    if not is_url(source) and not Path(source).is_file():
        raise PipelineError(f"no such batch file: {source}")
    if source.endswith(".jsonl") and not is_url(source):
        from ..serving.prediction_log import read_log  # a day of `make serve`'s prediction log

        batch = read_log(Path(source)).drop(columns=["prediction", "model_version"], errors="ignore")
    else:
        batch = read_source(source, limits, options)
    if batch.columns.empty:
        raise PipelineError(f"{source} is empty")
    if batch.empty:
        raise PipelineError(f"{source} has a header but no rows")
    return batch


def drifting_since(previous_issue: Path | None, now: str) -> str:
    """When drift was first seen: kept from the open issue's body, or now if this is the first time."""
    if previous_issue is None or not previous_issue.is_file():
        return now
    found = SINCE_MARKER.search(previous_issue.read_text(encoding="utf-8"))
    return found.group(1) if found else now


def full_report(html: Path, report_url: str | None) -> str:
    """Where a reader of the issue finds drift.html: the URL given, else the artifacts of this
    workflow run (a repository path would not resolve in an issue), else the local file."""
    if report_url:
        return f"[drift.html]({report_url})"
    if run := run_url():
        return f"`drift.html` in the artifacts of [the workflow run that checked this batch]({run})"
    return f"{markdown_code(html)} on the machine that ran the monitor"


def monitor(
    source: str, params: Params, previous_issue: Path | None = None, report_url: str | None = None
) -> int:
    """Check one batch, write the reports and the issue body, and return the exit status."""
    batch = read_batch(source, params.data.download, params.data.csv)
    model = load_model(params.paths.model)
    reference = read_table(params.paths.train)
    names = (str(params.paths.train), source)
    labelled = params.data.target in batch.columns
    inputs = batch.drop(columns=[params.data.target]) if labelled else batch
    held_out = read_table(params.paths.test)  # predictions on rows the model never saw, as on the batch's
    summary, snapshot = compare(reference, inputs, model, params, names, (held_out, inputs))
    checked = performance(model, batch, params) if labelled else None
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    since = drifting_since(previous_issue, now) if summary.drift_detected else None
    link = full_report(params.paths.monitor / "drift.html", report_url)
    issue = issue_markdown(summary, source=source, checked_at=now, since=since, full_report=link)
    if checked is not None:
        issue += "\n" + checked.markdown(params.model_tests.gates)
    write_reports(params.paths.monitor, summary, snapshot, extra={ISSUE_FILE: issue})
    print(f"monitor: {verdict(summary)}")
    if checked is not None:
        print(f"monitor: {checked.verdict()}")
    return DRIFT_STATUS if summary.drift_detected or (checked is not None and checked.drops) else 0


def parser() -> argparse.ArgumentParser:
    """`monitor CURRENT [--report-url URL] [--previous-issue FILE]`."""
    command = argparse.ArgumentParser(
        prog="monitor", description="Compare a production batch with the training data."
    )
    command.add_argument(
        "current", help="the production batch: a CSV path or an http(s) URL, or a prediction log (.jsonl)"
    )
    command.add_argument(
        "--report-url",
        help="where readers of the issue find drift.html (default: this workflow run, or its path)",
    )
    command.add_argument(
        "--previous-issue",
        type=Path,
        help="the open drift issue's body, to keep the date drift was first seen",
    )
    return command


def main(argv: list[str]) -> int:
    arguments = parser().parse_args(argv)
    return monitor(arguments.current, load_params(), arguments.previous_issue, arguments.report_url)
