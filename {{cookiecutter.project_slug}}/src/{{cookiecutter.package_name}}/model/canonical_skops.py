"""Rewrite a skops file in a canonical form, so that the same model always gives the same bytes.

`skops.io.dump` names array files after `id()`, bytes files after a random UUID, stores `id()`
as every node's `__id__` and stamps zip entries with the current time: two dumps of one model
differ, and DVC would see a new model on every retrain. The canonical form renumbers ids and
files in the order they first appear in `schema.json`, and writes a zip with sorted entries,
fixed timestamps and no compression. Loading is unchanged: skops only compares `__id__`s with
each other (equal ids are the same object) and opens files by the names in `schema.json`.
"""

from __future__ import annotations

import io
import json
from pathlib import PurePosixPath
from typing import Any
from zipfile import ZIP_STORED, ZipFile, ZipInfo

SCHEMA = "schema.json"
# The earliest time a zip entry can carry; any fixed time would do.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
# rw-r--r-- for a file, and "made on Unix", so the bytes do not depend on the machine's OS.
FILE_MODE = 0o644 << 16
UNIX = 3


class _Renumbering:
    """New ids and file names, handed out in order of first appearance."""

    def __init__(self) -> None:
        self.ids: dict[int, int] = {}
        self.files: dict[str, str] = {}

    def node_id(self, old: int) -> int:
        # From 1: skops does not memoise a node whose id is falsy.
        return self.ids.setdefault(old, len(self.ids) + 1)

    def file_name(self, old: str) -> str:
        return self.files.setdefault(old, f"{len(self.files) + 1:06d}{PurePosixPath(old).suffix}")

    def walk(self, value: Any) -> Any:
        """A copy of a schema value with ids and file references replaced, depth first in file order."""
        if isinstance(value, list):
            return [self.walk(item) for item in value]
        if not isinstance(value, dict):
            return value
        is_node = "__loader__" in value
        renamed: dict[str, Any] = {}
        for key, item in value.items():
            if is_node and key == "__id__" and isinstance(item, int) and not isinstance(item, bool):
                renamed[key] = self.node_id(item)
            elif is_node and key == "file" and isinstance(item, str):
                renamed[key] = self.file_name(item)
            else:
                renamed[key] = self.walk(item)
        return renamed


def _entry(name: str) -> ZipInfo:
    info = ZipInfo(name, date_time=ZIP_EPOCH)
    info.compress_type = ZIP_STORED
    info.create_system = UNIX
    info.external_attr = FILE_MODE
    return info


def canonical_skops(data: bytes) -> bytes:
    """The canonical form of a skops file's bytes; it loads exactly as the original does."""
    with ZipFile(io.BytesIO(data)) as source:
        schema = json.loads(source.read(SCHEMA))
        members = {name: source.read(name) for name in source.namelist() if name != SCHEMA}
    renumbering = _Renumbering()
    schema = renumbering.walk(schema)
    missing = sorted(set(renumbering.files) - set(members))
    unreferenced = sorted(set(members) - set(renumbering.files))
    if missing or unreferenced:
        raise ValueError(
            f"not a skops file this code understands: schema.json names missing files {missing} "
            f"and the zip holds files it does not name {unreferenced}"
        )
    entries = {new: members[old] for old, new in renumbering.files.items()}
    # The same settings as skops' own dump, so only the ids differ from what skops would write.
    entries[SCHEMA] = json.dumps(schema, indent=2).encode("utf-8")
    buffer = io.BytesIO()
    with ZipFile(buffer, "w", compression=ZIP_STORED) as target:
        for name in sorted(entries):
            target.writestr(_entry(name), entries[name])
    return buffer.getvalue()
