"""Command `retrain`: pending labelled batches join the training data on a `retrain/<date>` branch,
and ONE pull request ("Retrain on data through <date>") carries them to review.

The ordinary pull request workflow then trains, tests and comments; nothing merges by itself.
It is due when a reason is given (the monitor found drift or a metric drop), when a drift
issue is open, or when at least feedback.min_new_rows new labelled rows are pending. Batches
the ledger already has change nothing, so a second run on the same data opens nothing new. A
batch that fails schema.yaml stops the run before anything is committed or pushed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..checks.drift_issue import open_drift_issue
from ..config import Params, load_params
from ..data.ingest import source_bytes
from ..errors import PipelineError
from ..outputs import markdown_code, markdown_text
from ..repo.git import REMOTE, git
from ..repo.github import GitHub
from .add_data import add_batch, ledger_entries
from .pull_request import BRANCH_PREFIX, open_or_update, open_retrain_pull


@dataclass(frozen=True)
class Batch:
    """A pending labelled batch: where it came from and a working copy of its bytes."""

    source: str
    copy: Path
    sha256: str
    rows: int


def pending_batches(params: Params, extra: list[str], workspace: Path) -> list[Batch]:
    """The batches under feedback.pending and those named on the command line, copied aside
    (the branch checkout must not take them away)."""
    sources = [path.as_posix() for path in sorted(params.feedback.pending.glob("*.csv"))] + extra
    batches = []
    for number, source in enumerate(sources):
        raw = source_bytes(source, params.data.download)
        copy = workspace / f"{number}.csv"
        copy.write_bytes(raw)
        rows = max(len(raw.strip().splitlines()) - 1, 0)  # an estimate: add-data counts exactly
        batches.append(Batch(source, copy, hashlib.sha256(raw).hexdigest(), rows))
    return batches


def new_batches(batches: list[Batch], params: Params) -> list[Batch]:
    """The batches the ledger of this checkout does not have yet."""
    known = {entry.get("sha256") for entry in ledger_entries(params.feedback.ledger)}
    return [batch for batch in batches if batch.sha256 not in known]


def due_because(reason: str | None, drift_issue: int | None, rows: int, params: Params) -> str | None:
    """Why retraining is due now, or None."""
    if reason:
        return reason
    if drift_issue is not None:
        return f"drift issue #{drift_issue} is open"
    if rows >= params.feedback.min_new_rows:
        return f"{rows} new labelled rows (feedback.min_new_rows: {params.feedback.min_new_rows})"
    return None


def current_ref() -> str:
    """The checked-out branch, or the commit when none is."""
    branch = git("rev-parse", "--abbrev-ref", "HEAD").strip()
    return branch if branch != "HEAD" else git("rev-parse", "HEAD").strip()


def switch_to(branch: str, exists: bool) -> None:
    """Check out the retraining branch: the open pull request's as it is, or a new one from here."""
    if exists:
        git("fetch", "--quiet", REMOTE, f"+refs/heads/{branch}:refs/remotes/{REMOTE}/{branch}")
        git("checkout", "--quiet", "-B", branch, f"{REMOTE}/{branch}")
    else:
        git("checkout", "--quiet", "-B", branch)


def add_all(batches: list[Batch], params: Params) -> int:
    """Add every batch, or none: a rejected batch puts the data and the ledger back."""
    touched = [params.data.source, params.feedback.ledger.as_posix()]
    added = 0
    try:
        for batch in batches:
            added += add_batch(batch.copy.as_posix(), params, name=batch.source).rows
    except PipelineError as error:
        tracked = git("ls-files", "--", *touched).split()
        if tracked:
            git("checkout", "--", *tracked)
        for path in set(touched) - set(tracked):
            Path(path).unlink(missing_ok=True)
        raise PipelineError(f"{error}\nNo branch was pushed and no pull request opened.") from error
    return added


def commit_and_push(branch: str, params: Params, date: str) -> None:
    """Commit the grown training data and the ledger, and push the branch."""
    git("add", "--", params.data.source, params.feedback.ledger.as_posix())
    git("commit", "--quiet", "--no-verify", "-m", f"Add labelled production data through {date}")
    git("push", "--quiet", REMOTE, f"HEAD:refs/heads/{branch}")


def body(params: Params, base_entries: int, why: str, drift_issue: int | None) -> str:
    """The pull request's description: why, which batches, and what review still decides."""
    entries = ledger_entries(params.feedback.ledger)[base_entries:]
    lines = [
        "Labelled production data joins the training data; the pull request workflow retrains, "
        "tests and reports on it as on any other change. Nothing merges by itself.",
        "",
        f"- Why now: {markdown_text(why)}",
    ]
    if drift_issue is not None:
        lines.append(f"- Drift issue: #{drift_issue}")
    lines += ["", "| added at | rows | source | sha256 |", "| --- | --- | --- | --- |"]
    for entry in entries:
        lines.append(
            f"| {markdown_text(str(entry['added_at']))} | {int(entry['rows'])} | "
            f"{markdown_text(str(entry['source']))} | {markdown_text(str(entry['sha256'])[:12])} |"
        )
    total = sum(int(entry["rows"]) for entry in entries)
    lines += [
        "",
        f"{total} new rows in {markdown_code(params.data.source)}; "
        f"the ledger is {markdown_code(params.feedback.ledger)}.",
    ]
    return "\n".join(lines) + "\n"


def retrain(
    params: Params, github: GitHub, extra: list[str], reason: str | None, base: str, date: str
) -> int:
    """Open or update the retraining pull request when it is due; return its number (0: none)."""
    with tempfile.TemporaryDirectory(prefix="retrain-") as workspace:
        pending = new_batches(pending_batches(params, extra, Path(workspace)), params)
        if not pending:
            print("retrain: no new labelled batch: nothing to retrain on")
            return 0
        issue = open_drift_issue(github)
        drift_issue = int(issue["number"]) if issue else None
        rows = sum(batch.rows for batch in pending)
        why = due_because(reason, drift_issue, rows, params)
        if why is None:
            least = params.feedback.min_new_rows
            print(f"retrain: {rows} new labelled rows, fewer than {least}, and no drift: not yet")
            return 0
        base_entries = len(ledger_entries(params.feedback.ledger))
        existing = open_retrain_pull(github, base)
        branch = existing["head"]["ref"] if existing else f"{BRANCH_PREFIX}{date}"
        started_on = current_ref()
        switch_to(branch, exists=existing is not None)
        try:
            added = add_all(pending, params)
        except PipelineError:
            git("checkout", "--quiet", started_on)  # back where the run began, nothing changed
            raise
        if not added and existing is not None:
            print(f"retrain: pull request #{existing['number']} already has these batches: nothing to do")
            return int(existing["number"])
        if added:
            commit_and_push(branch, params, date)
    labels = [params.feedback.auto_merge_label] if params.feedback.auto_merge_label else []
    text = body(params, base_entries, why, drift_issue)
    number = open_or_update(github, existing, branch, base, f"Retrain on data through {date}", text, labels)
    print(f"retrain: {added} new rows on {branch}; pull request #{number}")
    return number


def write_step_outputs(number: int, params: Params) -> None:
    """In a workflow step: the pull request's number, and whether auto-merge is asked for."""
    outputs = os.environ.get("GITHUB_OUTPUT")
    if outputs and number:
        auto_merge = str(bool(params.feedback.auto_merge_label)).lower()
        with Path(outputs).open("a", encoding="utf-8") as out:
            out.write(f"pull_request={number}\nauto_merge={auto_merge}\n")


def main(argv: list[str]) -> int:
    command = argparse.ArgumentParser(prog="retrain", description=__doc__.splitlines()[0])
    command.add_argument("--batch", action="append", default=[], help="another labelled batch (path or URL)")
    command.add_argument("--reason", help="why retraining is due (e.g. the monitor's finding)")
    command.add_argument("--base", default="main", help="the branch the pull request targets")
    command.add_argument("--date", default=time.strftime("%Y-%m-%d", time.gmtime()), help="the data's date")
    arguments = command.parse_args(argv)
    params = load_params()
    github = GitHub.from_env()
    number = retrain(params, github, arguments.batch, arguments.reason, arguments.base, arguments.date)
    write_step_outputs(number, params)
    return 0
