"""Stage `ingest`: read the configured CSV, from disk or over http(s); validate judges its contents."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..config import DataParams, load_params
from ..errors import PipelineError
from ..outputs import atomic_paths, json_text
from ..tables import file_md5

FETCH_TIMEOUT_SECONDS = 60
# Separators that, in a one-column header, say the file is not comma-separated.
DELIMITERS = (";", "\t", "|")


@dataclass(frozen=True)
class Ingested:
    """The labelled rows, under the header's own column names, and how many rows had no target."""

    frame: pd.DataFrame
    without_target: int


def is_url(source: str) -> bool:
    """True for the sources ingest downloads instead of reading from disk."""
    return source.startswith(("http://", "https://"))


def fetch(url: str) -> bytes:
    """Download a CSV, turning network failures into one readable error."""
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.read()
    except urllib.error.HTTPError as error:
        raise PipelineError(f"could not fetch {url}: HTTP {error.code} {error.reason}") from error
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise PipelineError(f"could not fetch {url}: {reason}") from error


def parse_csv(raw: bytes, source: str) -> pd.DataFrame:
    """A CSV's bytes as a frame; `source` only names it in errors."""
    if not raw.strip():
        return pd.DataFrame()
    try:
        return pd.read_csv(io.BytesIO(raw))
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        raise PipelineError(f"{source} could not be read as CSV: {error}") from error


def source_bytes(source: str) -> bytes:
    """The source CSV's bytes, from disk or over http(s)."""
    if is_url(source):
        return fetch(source)
    path = Path(source)
    if not path.is_file():
        raise PipelineError(f"data.source: no such file: {source}")
    return path.read_bytes()


def read_source(source: str) -> pd.DataFrame:
    """Load the source CSV into a frame."""
    return parse_csv(source_bytes(source), source)


def with_written_names(frame: pd.DataFrame, raw: bytes) -> pd.DataFrame:
    """The frame under the names its header gives, where pandas renamed a duplicate to `name.1`."""
    try:
        header = pd.read_csv(io.BytesIO(raw), header=None, nrows=1, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError):
        return frame
    written = [str(name) for name in header.iloc[0]] if len(header) else []
    if len(written) != frame.shape[1]:
        return frame
    names = [
        name if name != parsed and written.count(name) > 1 else parsed
        for parsed, name in zip(frame.columns, written, strict=True)
    ]
    return frame.set_axis(names, axis="columns")


def duplicate_names(frame: pd.DataFrame) -> list[str]:
    """Column names that more than one column has, in order."""
    return [str(name) for name in frame.columns[frame.columns.duplicated()].unique()]


def looks_misdelimited(frame: pd.DataFrame) -> bool:
    """True when the whole header is one column that holds another separator."""
    return frame.shape[1] == 1 and any(mark in str(frame.columns[0]) for mark in DELIMITERS)


def keep_labelled(frame: pd.DataFrame, target: str) -> pd.DataFrame:
    """The rows that have a target (when there is one to keep)."""
    if target in frame.columns:
        frame = frame.dropna(subset=[target])
    return frame.reset_index(drop=True)


def ingest_source(data: DataParams) -> Ingested:
    """Read the source, keep the rows that have a target and count those that do not."""
    raw = source_bytes(data.source)
    frame = parse_csv(raw, data.source)
    labelled = keep_labelled(frame, data.target)
    return Ingested(with_written_names(labelled, raw), len(frame) - len(labelled))


def ingest(data: DataParams) -> pd.DataFrame:
    """Read the source and keep the rows that have a target."""
    return ingest_source(data).frame


def rows_without_target(ingested: Path, counts_file: Path) -> int | None:
    """How many rows ingest dropped for a missing target, if its record describes this table."""
    try:
        counts = json.loads(counts_file.read_text(encoding="utf-8"))
        return int(counts["without_target"]) if counts["data_md5"] == file_md5(ingested) else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def main() -> None:
    params = load_params()
    result = ingest_source(params.data)
    frame, target = result.frame, params.data.target
    table, counts = params.paths.ingested, params.paths.ingest_counts
    with atomic_paths(table, counts) as (table_out, counts_out):
        frame.to_csv(table_out, index=False)
        record = {"without_target": result.without_target, "data_md5": file_md5(table_out)}
        counts_out.write_text(json_text(record), encoding="utf-8")
    dropped = result.without_target
    note = f"; dropped {dropped} row{'s' * (dropped != 1)} without a target ({target})" if dropped else ""
    print(f"ingest: {len(frame)} rows, {frame.shape[1]} columns from {params.data.source}{note}")
