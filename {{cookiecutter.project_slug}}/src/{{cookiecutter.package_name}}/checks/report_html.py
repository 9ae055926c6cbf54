"""Evidently's HTML report, with the data it embeds unable to end its script.

Evidently writes the report's data as JSON inside an inline <script> and does not escape `</script>`
or `<!--` in it, so a column name or category value could add scripts of its own to the page
reviewers open. The data sits on lines of the form `    var NAME = JSON;` between `<script>` and
`</script>` (JSON has no raw line breaks); in those lines every `<` is inside a JSON string, where
`\\u003c` is the same character to the script and no tag to the HTML parser.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..errors import PipelineError

if TYPE_CHECKING:
    from evidently.core.report import Snapshot

DATA_BLOCK = re.compile(r"<script>\n((?:    var \w+ = [^\n]*;\n)+)</script>")


def script_safe(page: str) -> str:
    """The page with `<` in its embedded data written as `\\u003c`; refuses a page laid out otherwise."""

    def inert(block: re.Match[str]) -> str:
        return "<script>\n" + block.group(1).replace("<", "\\u003c") + "</script>"

    safe, blocks = DATA_BLOCK.subn(inert, page)
    if blocks != 1:
        raise PipelineError(f"Evidently's report has {blocks} data blocks, not 1: cannot make its data inert")
    return safe


def report_html(snapshot: Snapshot) -> str:
    """The standalone HTML report, its data inert."""
    return script_safe(snapshot.get_html_str(as_iframe=False))
