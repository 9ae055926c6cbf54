"""Loaded by cookiecutter (`_extensions` in cookiecutter.json) in its own process, before any hook.

When the pre-generation hook refuses the answers, it prints one `error:` line per problem and
exits 1; cookiecutter then logs "Stopping generation ..." with a traceback of its own hook
runner, which says nothing about the answers and buries those lines. The filter keeps the
message and drops that traceback; the hook's own output, and any other log record, are untouched.
"""

from __future__ import annotations

import logging

from jinja2 import Environment
from jinja2.ext import Extension

HOOK_STOPPED = "Stopping generation because"


def without_runner_traceback(record: logging.LogRecord) -> bool:
    """Strip the traceback from cookiecutter's "hook failed" record; keep every record."""
    if record.getMessage().startswith(HOOK_STOPPED):
        record.exc_info = None
        record.exc_text = None
    return True


class RefusalWithoutTraceback(Extension):
    """Installs the filter when cookiecutter builds its template environment (no tags, no filters)."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        logging.getLogger("cookiecutter.hooks").addFilter(without_runner_traceback)
