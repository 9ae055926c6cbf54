"""Command `add-data`: a labelled batch joins the training data once, and only if schema.yaml accepts it.

The batch's rows are appended, as written, to data.source (the CSV the ingest stage reads), so
git and `dvc diff` show exactly the new lines. feedback.ledger gets one JSON line per batch
(source, time, rows, sha256): adding the same batch again changes nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..config import Params, load_params
from ..data.ingest import is_url, source_bytes
from ..data.reading import as_text, is_parquet, parse_csv
from ..data.schema import Schema, load_schema
from ..data.validate import Failure, summary, validate
from ..errors import PipelineError
from ..outputs import atomic_path, atomic_paths, markdown_code

# Checks that judge the whole training table, not a batch: the validate stage runs them on
# the table the batch joins.
TABLE_CHECKS = frozenset({"min_rows", "min_class_share", "min_classes", "constant"})
REJECTION_FILE = "rejected_batch.md"


@dataclass(frozen=True)
class Added:
    """What one add-data run did: how many rows joined (0 when the batch was already in)."""

    rows: int
    sha256: str
    already_added: bool


def ledger_entries(ledger: Path) -> list[dict[str, object]]:
    """Every batch added so far, oldest first."""
    if not ledger.is_file():
        return []
    lines = ledger.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def check_columns(batch: pd.DataFrame, training: list[str], source: str) -> None:
    """A batch must have exactly the training data's columns (in any order)."""
    columns = [str(column) for column in batch.columns]
    missing = [column for column in training if column not in columns]
    unexpected = [column for column in columns if column not in training]
    if missing or unexpected:
        parts = [f"missing {', '.join(missing)}"] if missing else []
        parts += [f"unexpected {', '.join(unexpected)}"] if unexpected else []
        raise PipelineError(f"{source} does not have the training data's columns: {'; '.join(parts)}")
    if batch.empty:
        raise PipelineError(f"{source} has a header but no rows")


def repeated_failures(batch: pd.DataFrame, training: pd.DataFrame, schema: Schema) -> list[Failure]:
    """Values of a `unique` column that the training data already has: the batch was added before,
    or its identifiers collide."""
    found = []
    for column, rules in schema.columns.items():
        if not rules.unique or column not in batch or column not in training:
            continue
        repeated = batch[column].isin(set(training[column].dropna()))
        if repeated.any():
            examples = [repr(value) for value in batch.loc[repeated, column].head(3)]
            rows = [int(row) for row in batch.index[repeated][:3]]
            expected = "no value the training data already has"
            found.append(Failure(column, "unique", expected, "hard", int(repeated.sum()), examples, rows))
    return found


def batch_failures(batch: pd.DataFrame, training: pd.DataFrame, params: Params) -> list[Failure]:
    """The hard failures of schema.yaml's checks that a batch, joining the training data, can fail."""
    schema = load_schema(params.paths.data_schema)
    failures = [*validate(batch, schema, params), *repeated_failures(batch, training, schema)]
    return [f for f in failures if f.severity == "hard" and f.check not in TABLE_CHECKS]


def reject(failures: list[Failure], source: str, params: Params) -> PipelineError:
    """Write the rejection report and return the error that names it."""
    report = params.paths.monitor / REJECTION_FILE
    headline = f"❌ batch rejected: {len(failures)} hard check{'s' * (len(failures) != 1)} failed"
    with atomic_path(report) as out:
        out.write_text(summary(failures, headline, note=f"Batch: {markdown_code(source)}"), encoding="utf-8")
    listed = "\n".join(f"  {failure.line()}" for failure in failures[:12])
    return PipelineError(
        f"{source} failed schema.yaml's checks, nothing was added (report: {report}):\n{listed}"
    )


def add_batch(source: str, params: Params, now: str | None = None, name: str | None = None) -> Added:
    """Validate a labelled batch and append it to the training data, unless the ledger already has it.

    `name` is what the ledger records as the source, when `source` is a working copy of it.
    """
    training = params.data.source
    if is_url(training) or is_parquet(training):
        raise PipelineError(f"data.source is {training}: add-data appends to a local CSV only")
    raw = source_bytes(source, params.data.download)
    digest = hashlib.sha256(raw).hexdigest()
    ledger = params.feedback.ledger
    if any(entry.get("sha256") == digest for entry in ledger_entries(ledger)):
        return Added(0, digest, already_added=True)
    existing = Path(training).read_bytes()
    options = params.data.csv
    current = parse_csv(existing, training, options)
    columns = [str(column) for column in current.columns]
    batch = parse_csv(raw, source, options)
    check_columns(batch, columns, source)
    typed = batch[columns]
    failures = batch_failures(typed, current, params)
    if failures:
        raise reject(failures, source, params)
    # Written as the training file is (data.csv), its values exactly as the batch wrote them.
    text = as_text(raw, source, options)[columns]
    rows = text.to_csv(header=False, index=False, lineterminator="\n", sep=options.separator)
    newline = b"" if existing.endswith(b"\n") else b"\n"
    entry = {
        "source": name or source,
        "added_at": now or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "rows": len(typed),
        "sha256": digest,
    }
    old_ledger = ledger.read_bytes() if ledger.is_file() else b""
    with atomic_paths(Path(training), ledger) as (data_out, ledger_out):
        data_out.write_bytes(existing + newline + rows.encode(options.encoding))
        ledger_out.write_bytes(old_ledger + (json.dumps(entry, sort_keys=True) + "\n").encode())
    return Added(len(typed), digest, already_added=False)


def main(argv: list[str]) -> int:
    command = argparse.ArgumentParser(prog="add-data", description=__doc__.splitlines()[0])
    command.add_argument("source", help="a labelled batch: a CSV path or an http(s) URL")
    arguments = command.parse_args(argv)
    params = load_params()
    added = add_batch(arguments.source, params)
    if added.already_added:
        print(f"add-data: {arguments.source} was added before (sha256 {added.sha256[:12]}): nothing to do")
    else:
        print(
            f"add-data: {added.rows} rows from {arguments.source} appended to {params.data.source}; "
            f"recorded in {params.feedback.ledger}"
        )
    return 0
