"""Write stage outputs all-or-nothing, so a failed run leaves the last good outputs in place."""

from __future__ import annotations

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


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; move it into place only if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    temporary_path = Path(temporary)
    try:
        yield temporary_path
        temporary_path.chmod(0o644)  # mkstemp makes files private; outputs are ordinary files
        temporary_path.replace(path)
    finally:
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
