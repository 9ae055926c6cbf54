"""Hostile data, and what a GitHub-flavoured markdown renderer makes of the reports written from it.

A fork's pull request controls its data, so names and values must reach the comment as text.
"""

from collections import Counter

from markdown_it import MarkdownIt
from markdown_it.token import Token

HOSTILE = [
    "a`b``c",
    "x|y",
    "<img src=x onerror=alert(1)>",
    "</script><script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "line\nbreak\r\n\n# heading",
    "\u202eevil\u2066 \u200f",
    "✅ all gates passed **bold** [link](https://example.com) ![i](https://example.com/i.png)",
    "$x$ ~~s~~ &amp; _e_",
    "- 1. > #",
    "`",
    "a\\|b\\",
    "w" * 10_000,
]
TAGS = ("<img", "<script", "</script")


def tokens(markdown: str) -> list[Token]:
    """Every token, inline ones included, as CommonMark with GitHub's tables parses the text."""
    parsed = MarkdownIt("commonmark").enable("table").parse(markdown)
    return [token for block in parsed for token in (block, *(block.children or []))]


def raw_html(markdown: str) -> list[str]:
    """HTML the renderer would pass through as it is."""
    return [token.content for token in tokens(markdown) if token.type in ("html_inline", "html_block")]


def code_spans(markdown: str) -> list[str]:
    return [token.content for token in tokens(markdown) if token.type == "code_inline"]


def table_rows(markdown: str) -> int:
    """Body rows of the tables in the text (a table that fell apart has none)."""
    return sum(token.type == "tr_open" for token in tokens(markdown)) - sum(
        token.type == "thead_open" for token in tokens(markdown)
    )


MARKUP = {"html_inline", "html_block", "link_open", "image", "em_open", "strong_open", "heading_open"}


def markup(markdown: str) -> Counter[str]:
    """The HTML, links, images, emphasis and headings in the text."""
    return Counter(token.type for token in tokens(markdown) if token.type in MARKUP)


def inert(markdown: str, expected: Counter[str] | None = None) -> bool:
    """The text has only the markup expected of it (by default none), and no tag data could write."""
    return markup(markdown) == (expected or Counter()) and not any(tag in rendered(markdown) for tag in TAGS)


def rendered(markdown: str) -> str:
    return MarkdownIt("commonmark").enable("table").render(markdown)
