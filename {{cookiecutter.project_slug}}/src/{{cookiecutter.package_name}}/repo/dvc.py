"""DVC's configuration and error messages, read as text so that callers need not import DVC."""

from __future__ import annotations

import re


def default_remote(config_text: str | None) -> str | None:
    """The `core.remote` a DVC config file (.dvc/config) names, or None."""
    section = ""
    for line in (config_text or "").splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped.strip("[]'\" ")
        elif section == "core" and (found := re.fullmatch(r"remote\s*=\s*(\S+)", stripped)):
            return found.group(1)
    return None


def dvc_reason(stderr: str) -> str:
    """DVC's own error lines, without its 'Having any troubles?' support footer."""
    lines = []
    for line in stderr.splitlines():
        if line.startswith("Having any troubles?"):
            break
        if line.strip() and not set(line.strip()) <= set("-"):
            lines.append(line.strip())
    errors = [line for line in lines if line.startswith("ERROR")]
    return (errors or lines or ["no output"])[-1].removeprefix("ERROR: ")
