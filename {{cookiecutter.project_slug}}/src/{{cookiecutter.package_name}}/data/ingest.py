"""Stage `ingest`: read the configured CSV or Parquet file (a path or an http(s) URL); validate judges it.

Downloads are streamed to a temporary file, bounded in size and in total time (data.download).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.client import HTTPResponse
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from ..config import CsvParams, DataParams, DownloadParams, load_params
from ..errors import PipelineError
from ..outputs import atomic_paths, json_text
from ..tables import file_md5
from .reading import is_parquet, read_table_file, with_written_names

# Each read waits at most this long; data.download.timeout_seconds bounds the whole download.
FETCH_TIMEOUT_SECONDS = 60
CHUNK_BYTES = 1 << 16
PROGRESS_EVERY_SECONDS = 5.0


@dataclass(frozen=True)
class Ingested:
    """The labelled rows, under the header's own column names, and how many rows had no target."""

    frame: pd.DataFrame
    without_target: int


def is_url(source: str) -> bool:
    """True for the sources ingest downloads instead of reading from disk."""
    return source.startswith(("http://", "https://"))


def megabytes(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB"


def too_large(url: str, limits: DownloadParams) -> PipelineError:
    return PipelineError(
        f"could not fetch {url}: it is larger than data.download.max_bytes ({limits.max_bytes:,} bytes); "
        "raise that limit in params.yaml if the file is meant to be this big"
    )


def too_slow(url: str, limits: DownloadParams, received: int) -> PipelineError:
    return PipelineError(
        f"could not fetch {url}: not complete within data.download.timeout_seconds "
        f"({limits.timeout_seconds:g} s; {received:,} bytes received); raise that limit in params.yaml "
        "for a slow server"
    )


def copy_bounded(
    response: HTTPResponse, out: BinaryIO, url: str, limits: DownloadParams, deadline: float
) -> None:
    """Copy the body chunk by chunk, stopping at the size cap or the deadline, with progress on stderr."""
    declared = response.headers.get("Content-Length", "")
    total = int(declared) if declared.isdigit() else None
    if total is not None and total > limits.max_bytes:
        raise too_large(url, limits)
    received, reported = 0, time.monotonic()
    while chunk := response.read1(CHUNK_BYTES):  # read1: returns what arrived, never waits to fill
        received += len(chunk)
        if received > limits.max_bytes:
            raise too_large(url, limits)
        now = time.monotonic()
        if now > deadline:
            raise too_slow(url, limits, received)
        out.write(chunk)
        if now - reported >= PROGRESS_EVERY_SECONDS:
            reported = now
            of_total = f" of {megabytes(total)}" if total else ""
            print(f"download: {megabytes(received)}{of_total} from {url}", file=sys.stderr, flush=True)


def download(url: str, destination: Path, limits: DownloadParams) -> None:
    """Stream a URL into a file, bounded in size and total time; network failures become one error."""
    deadline = time.monotonic() + limits.timeout_seconds
    per_read = min(FETCH_TIMEOUT_SECONDS, limits.timeout_seconds)
    try:
        with (
            urllib.request.urlopen(url, timeout=per_read) as response,  # noqa: S310
            destination.open("wb") as out,
        ):
            if time.monotonic() > deadline:
                raise too_slow(url, limits, 0)
            copy_bounded(response, out, url, limits, deadline)
    except urllib.error.HTTPError as error:
        raise PipelineError(f"could not fetch {url}: HTTP {error.code} {error.reason}") from error
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise PipelineError(f"could not fetch {url}: {reason}") from error


@contextmanager
def local_copy(source: str, limits: DownloadParams) -> Iterator[Path]:
    """The source as a file: itself, or a bounded download into a temporary folder removed afterwards."""
    if not is_url(source):
        path = Path(source)
        if not path.is_file():
            raise PipelineError(f"data.source: no such file: {source}")
        yield path
        return
    # Outside the project, so neither git nor DVC ever sees a partial download.
    with tempfile.TemporaryDirectory(prefix="download-") as folder:
        destination = Path(folder) / ("source.parquet" if is_parquet(source) else "source.csv")
        download(source, destination, limits)
        yield destination


def source_bytes(source: str, limits: DownloadParams | None = None) -> bytes:
    """The source CSV's bytes, from disk or over http(s) within the download limits (for hashing)."""
    with local_copy(source, limits or DownloadParams()) as path:
        return path.read_bytes()


def read_source(
    source: str, limits: DownloadParams | None = None, options: CsvParams | None = None
) -> pd.DataFrame:
    """Load a user's table (CSV or Parquet) into a frame, from disk or over http(s) within the limits."""
    with local_copy(source, limits or DownloadParams()) as path:
        return read_table_file(path, source, options)


def duplicate_names(frame: pd.DataFrame) -> list[str]:
    """Column names that more than one column has, in order."""
    return [str(name) for name in frame.columns[frame.columns.duplicated()].unique()]


def keep_labelled(frame: pd.DataFrame, target: str) -> pd.DataFrame:
    """The rows that have a target (when there is one to keep)."""
    if target in frame.columns:
        frame = frame.dropna(subset=[target])
    return frame.reset_index(drop=True)


def ingest_source(data: DataParams) -> Ingested:
    """Read the source, keep the rows that have a target and count those that do not."""
    with local_copy(data.source, data.download) as path:
        frame = read_table_file(path, data.source, data.csv)
        labelled = keep_labelled(frame, data.target)
        if not is_parquet(data.source):  # Parquet cannot hold two columns of one name
            labelled = with_written_names(labelled, path, data.csv)
        return Ingested(labelled, len(frame) - len(labelled))


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
