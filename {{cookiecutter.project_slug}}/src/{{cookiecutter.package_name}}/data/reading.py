"""Read a user's table, a CSV written as params.yaml's `data.csv` says or a Parquet file, with
errors that name the setting to change rather than a parser's traceback.

Every user file goes through here: the data source, production batches, labels, files to
score. The pipeline's own tables (data/ingested.csv, train.csv...) are always comma-separated
UTF-8 and read with `tables.read_table`.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pandas as pd

from ..config import CsvParams
from ..dates import as_iso_text
from ..errors import PipelineError

# Column separators a CSV may use, in the order a tie is broken.
SEPARATORS = (",", ";", "\t", "|")
# A file whose first bytes are all blank is an empty table (for validate to report).
BLANK_PROBE_BYTES = 1 << 16
# How much of a file detection looks at.
DETECT_PROBE_BYTES = 1 << 20
# What a CSV not in UTF-8 most likely is: latin-1 decodes any byte, so it always reads.
FALLBACK_ENCODING = "latin-1"
# A number written with a decimal comma: 3,5 or -12,25 (a whole field).
DECIMAL_COMMA = re.compile(r"-?\d+,\d+")

Raw = bytes | Path


def is_parquet(source: str) -> bool:
    """True for a path or URL whose name ends in .parquet (a URL's query is ignored)."""
    return urlparse(source).path.lower().endswith(".parquet")


def opened(raw: Raw) -> io.BytesIO | Path:
    return io.BytesIO(raw) if isinstance(raw, bytes) else raw


def head(raw: Raw, size: int) -> bytes:
    if isinstance(raw, bytes):
        return raw[:size]
    with raw.open("rb") as handle:
        return handle.read(size)


def is_blank(raw: Raw) -> bool:
    start = head(raw, BLANK_PROBE_BYTES)
    return not start.strip() and len(start) < BLANK_PROBE_BYTES


def csv_arguments(options: CsvParams) -> dict[str, Any]:
    """pandas.read_csv's keywords for the configured CSV options."""
    return {"sep": options.separator, "encoding": options.encoding, "decimal": options.decimal}


def decodes(sample: bytes, encoding: str) -> bool:
    """True when the sample is text in that encoding (a character cut at the end is allowed)."""
    try:
        codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


def separator_of(header: str) -> str | None:
    """The separator a header line uses most, if any (quoted names may hide a few)."""
    counts = {mark: header.count(mark) for mark in SEPARATORS}
    best = max(SEPARATORS, key=lambda mark: counts[mark])
    return best if counts[best] else None


def detect(raw: Raw) -> CsvParams:
    """The CSV options a file most likely needs: UTF-8 or latin-1, the header's separator, and a
    decimal comma when the separator is not a comma and numbers are written 3,5."""
    sample = head(raw, DETECT_PROBE_BYTES)
    encoding = "utf-8" if decodes(sample, "utf-8") else FALLBACK_ENCODING
    lines = sample.decode(encoding, errors="ignore").splitlines()
    separator = separator_of(lines[0]) if lines else None
    separator = separator or ","
    decimal = "."
    if separator != ",":
        fields = [field.strip().strip('"') for line in lines[1:200] for field in line.split(separator)]
        if any(DECIMAL_COMMA.fullmatch(field) for field in fields):
            decimal = ","
    return CsvParams(separator=separator, encoding=encoding, decimal=decimal)


def shown(mark: str) -> str:
    """A separator as params.yaml would spell it."""
    return '"\\t"' if mark == "\t" else f'"{mark}"'


def separation(options: CsvParams) -> str:
    """How the configured CSVs are separated, as an error message says it."""
    return "comma-separated" if options.separator == "," else f"separated by {options.separator!r}"


def one_column_fix(frame: pd.DataFrame, options: CsvParams) -> str | None:
    """When the whole header read as one column holding another separator: the setting to change."""
    if frame.shape[1] != 1:
        return None
    found = separator_of(str(frame.columns[0]).replace(options.separator, ""))
    return None if found is None else f"set data.csv.separator: {shown(found)} in params.yaml"


def not_decoded(source: str | Path, options: CsvParams, error: UnicodeDecodeError) -> PipelineError:
    """The error for a file that is not in the configured encoding, naming the likely one."""
    usual = options.encoding.lower().replace("_", "-") != FALLBACK_ENCODING
    other = FALLBACK_ENCODING if usual else "cp1252"
    return PipelineError(
        f"{source} could not be read as CSV: it is not {options.encoding} text ({error.reason} at byte "
        f"{error.start}); if it is text, set data.csv.encoding: {other} in params.yaml (or the encoding "
        "it was saved in)"
    )


def parse_csv(raw: Raw, source: str, options: CsvParams | None = None) -> pd.DataFrame:
    """A CSV (its bytes or its file) as a frame; `source` only names it in errors."""
    options = options or CsvParams()
    if is_blank(raw):
        return pd.DataFrame()
    try:
        return pd.read_csv(opened(raw), **csv_arguments(options))
    except UnicodeDecodeError as error:
        raise not_decoded(source, options, error) from error
    except (pd.errors.ParserError, ValueError) as error:
        detected = detect(raw).separator
        fix = f"set data.csv.separator: {shown(detected)} in params.yaml"
        hint = f" (it looks {shown(detected)}-separated: {fix})" if detected != options.separator else ""
        raise PipelineError(f"{source} could not be read as CSV{hint}: {error}") from error


def csv_chunks(path: Path, options: CsvParams, rows: int, text_columns: list[str]) -> Iterator[pd.DataFrame]:
    """A large CSV a chunk of rows at a time, those columns kept as text; errors as parse_csv's."""
    try:
        dtypes = dict.fromkeys(text_columns, str)
        with pd.read_csv(path, chunksize=rows, dtype=dtypes, **csv_arguments(options)) as chunks:
            yield from chunks
    except UnicodeDecodeError as error:
        raise not_decoded(path, options, error) from error
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as error:
        raise PipelineError(f"{path} is not a readable CSV: {error}") from error


def as_text(raw: Raw, source: str, options: CsvParams) -> pd.DataFrame:
    """A CSV's values exactly as written (no type, no missing value), to copy them unchanged."""
    try:
        return pd.read_csv(opened(raw), dtype=str, keep_default_na=False, **csv_arguments(options))
    except UnicodeDecodeError as error:
        raise not_decoded(source, options, error) from error
    except (pd.errors.ParserError, ValueError) as error:
        raise PipelineError(f"{source} could not be read as CSV: {error}") from error


def parse_parquet(raw: Raw, source: str) -> pd.DataFrame:
    """A Parquet file as a frame, its timestamps as ISO text: what the same table read from a CSV
    holds, so that the schema, the model and drift see one thing whichever format it came in."""
    try:
        frame = pd.read_parquet(opened(raw))
    except (ImportError, OSError, ValueError) as error:
        raise PipelineError(f"{source} could not be read as Parquet: {error}") from error
    stamps = [column for column in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[column])]
    return frame.assign(**{str(column): as_iso_text(frame[column]) for column in stamps})


def read_table_file(raw: Raw, source: str, options: CsvParams | None = None) -> pd.DataFrame:
    """A user's table: Parquet when its name says so, else a CSV read with the options."""
    return parse_parquet(raw, source) if is_parquet(source) else parse_csv(raw, source, options)


def with_written_names(frame: pd.DataFrame, raw: Raw, options: CsvParams | None = None) -> pd.DataFrame:
    """The frame under the names a CSV's header gives, where pandas renamed a duplicate to `name.1`."""
    arguments = csv_arguments(options or CsvParams())
    try:
        header = pd.read_csv(opened(raw), header=None, nrows=1, dtype=str, keep_default_na=False, **arguments)
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
