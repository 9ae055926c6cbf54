"""Stage `ingest`: read the configured CSV, from disk or over http(s); validate judges its contents."""

from __future__ import annotations

import io
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd

from .config import DataParams, load_params
from .errors import PipelineError
from .outputs import atomic_path

FETCH_TIMEOUT_SECONDS = 60


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


def read_source(source: str) -> pd.DataFrame:
    """Load the source CSV into a frame."""
    if is_url(source):
        return parse_csv(fetch(source), source)
    path = Path(source)
    if not path.is_file():
        raise PipelineError(f"data.source: no such file: {source}")
    return parse_csv(path.read_bytes(), source)


def keep_labelled(frame: pd.DataFrame, target: str) -> pd.DataFrame:
    """The rows that have a target (when there is one to keep)."""
    if target in frame.columns:
        frame = frame.dropna(subset=[target])
    return frame.reset_index(drop=True)


def ingest(data: DataParams) -> pd.DataFrame:
    """Read the source and keep the rows that have a target."""
    return keep_labelled(read_source(data.source), data.target)


def main() -> None:
    params = load_params()
    frame = ingest(params.data)
    with atomic_path(params.paths.ingested) as output:
        frame.to_csv(output, index=False)
    print(f"ingest: {len(frame)} rows, {frame.shape[1]} columns from {params.data.source}")
