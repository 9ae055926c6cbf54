"""Write stage outputs all-or-nothing, so a failed run leaves the last good outputs in place."""

from __future__ import annotations

import errno
import glob
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

from .errors import PipelineError

# Failures of the disk or the folder, not of the code: reported as one error naming the output.
WRITE_ERRORS = {
    errno.ENOSPC: "the disk is full: free some space and run again",
    errno.EDQUOT: "the disk quota is used up: free some space and run again",
    errno.EFBIG: "the file is too large for this file system",
    errno.EACCES: "permission denied: make the folder writable and run again",
    errno.EPERM: "permission denied: make the folder writable and run again",
    errno.EROFS: "the file system is read-only",
}


def temporary_pattern(path: Path) -> str:
    """The names of `path`'s temporary files; .gitignore and .dvcignore ignore `.*.tmp`."""
    return f".{glob.escape(path.name)}.*.tmp"


def sweep_debris(path: Path) -> None:
    """Remove temporary files of `path` that a killed run (SIGKILL runs no cleanup) left behind."""
    for debris in path.parent.glob(temporary_pattern(path)):
        debris.unlink(missing_ok=True)


def unwritable(path: Path, error: OSError) -> PipelineError:
    """One error naming the output that could not be written, and that its last version is kept."""
    reason = WRITE_ERRORS.get(error.errno or 0, error.strerror or str(error))
    kept = f"; the last good {path.name} is left in place" if path.exists() else ""
    return PipelineError(f"could not write {path}: {reason}{kept}")


def is_write_error(error: OSError, temporary: Path | None) -> bool:
    """A disk or permission failure of this output: it names no file, or the temporary file."""
    named = error.filename is None or Path(error.filename) == temporary
    return named and error.errno in WRITE_ERRORS


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; move it into place only if the block succeeds."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        sweep_debris(path)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        if error.errno in WRITE_ERRORS:
            raise unwritable(path, error) from error
        raise
    os.close(handle)
    temporary_path = Path(temporary)
    try:
        yield temporary_path
        temporary_path.chmod(0o644)  # mkstemp makes files private; outputs are ordinary files
        temporary_path.replace(path)
    except OSError as error:
        if is_write_error(error, temporary_path):
            raise unwritable(path, error) from error
        raise
    finally:  # also on Ctrl-C and, through cli's handler, on SIGTERM
        temporary_path.unlink(missing_ok=True)


@contextmanager
def atomic_paths(*paths: Path) -> Iterator[list[Path]]:
    """Like atomic_path for several outputs: none is replaced unless all were written."""
    with ExitStack() as stack:
        yield [stack.enter_context(atomic_path(path)) for path in paths]


def json_text(payload: Any) -> str:
    """Stable, diff-friendly JSON."""
    return json.dumps(payload, indent=2, sort_keys=True) + "\n"


# What data may put in a pull request comment: a fork's pull request controls its data, so every
# data-derived string is shown as inert text, on one line, of bounded length.
SHOWN_CHARACTERS = 100
NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
UNSHOWN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}  # control, format, unassigned, line breaks
HTML_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
INLINE_MARKUP = frozenset("\\`*_[]|~$")  # escapes, code, emphasis, links and images, tables, math
LINE_START = re.compile(r"^(?:\d{1,9}(?=[.)])|(?=[#+=-]))")  # an ordered list, a heading, a bullet


def visible(text: object, limit: int = SHOWN_CHARACTERS) -> str:
    """One line, capped: control, format (bidi marks, zero-width) and line-separator characters as escapes."""
    shown = "".join(
        NAMED_ESCAPES.get(char) or (f"\\u{ord(char):04x}" if unicodedata.category(char) in UNSHOWN else char)
        for char in str(text)[: limit + 1]
    )
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def markdown_text(text: object, limit: int = SHOWN_CHARACTERS) -> str:
    """Data as plain markdown text: no HTML, link, emphasis, math or code span can start in it,
    nor a heading or list where it starts a line (a note in a list item does)."""
    escaped = "".join(
        HTML_ENTITIES.get(char) or ("\\" + char if char in INLINE_MARKUP else char)
        for char in visible(text, limit)
    )
    return LINE_START.sub(lambda start: start.group(0) + "\\", escaped, count=1)


def markdown_code(text: object, limit: int = SHOWN_CHARACTERS) -> str:
    """Data as a code span its content cannot close: the fence is longer than any backtick run in it."""
    shown = visible(text, limit)
    fence = "`" * (1 + max((len(run) for run in re.findall(r"`+", shown)), default=0))
    padded = f" {shown} " if not shown or shown[:1] in ("`", " ") or shown[-1:] in ("`", " ") else shown
    return f"{fence}{padded}{fence}"


def markdown_table(header: list[str], rows: list[list[str]], align: list[str] | None = None) -> str:
    """A GitHub-flavoured markdown table, with pipes inside cells escaped (code spans included)."""
    lines = [header, align or ["---"] * len(header), *rows]
    return (
        "\n".join("| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |" for line in lines)
        + "\n"
    )


SPREADSHEET_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells a spreadsheet would run as a formula, quoted as OWASP advises; numbers stay numbers."""

    def cell(value: object) -> object:
        return f"'{value}" if isinstance(value, str) and value.startswith(SPREADSHEET_FORMULA) else value

    return frame.rename(columns=cell).map(cell)
