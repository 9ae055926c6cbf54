"""Which model and data a result was computed from, so a stale result can be told from a fresh one."""

from __future__ import annotations

from pathlib import Path

from ..tables import file_md5

# The key under which each result (model tests, metrics) names the model and data it describes.
COMPUTED_FOR = "computed_for"


def computed_for(model: Path, data: Path) -> dict[str, dict[str, str]]:
    """Which model and data a result was computed from: the files actually read, hashed as DVC does."""
    return {
        "model": {"path": model.as_posix(), "md5": file_md5(model)},
        "data": {"path": data.as_posix(), "md5": file_md5(data)},
    }


def outdated(recorded: object, model: Path, data: Path) -> list[str]:
    """Which of the model and data a result names differ from the files here now (empty: it is current)."""
    current = computed_for(model, data) if model.is_file() and data.is_file() else {}
    named = recorded if isinstance(recorded, dict) else {}
    return [
        key
        for key in ("model", "data")
        if not isinstance(named.get(key), dict) or named[key].get("md5") != current.get(key, {}).get("md5")
    ]
