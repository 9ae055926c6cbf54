"""The prediction log: each request's id, time, stage, model version, inputs and outputs, one JSON line.

Files are daily (`predictions-YYYY-MM-DD.jsonl`, UTC) under serving.log_dir. Requests only put
an entry on a bounded queue; a background thread writes, so a slow disk never slows an answer
(a full queue drops the entry and counts it). `close()` writes what is queued, at shutdown.
Columns marked `sensitive: true` in schema.yaml are kept only as a hash of their value.
`read_log` turns a log back into a table, one row per scored row, for `make monitor`.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd

# An optional secret mixed into the hashes, so that a short value (an id) cannot be found by
# hashing every candidate; set it in the server's environment.
SALT_VARIABLE = "PREDICTION_LOG_SALT"
STOP = None
UTC = timezone(timedelta(0))  # datetime.UTC is Python 3.11+; the project supports 3.10


def pseudonym(value: Any, salt: str) -> str | None:
    """A stable stand-in for a sensitive value; null stays null."""
    if value is None:
        return None
    return "sha256:" + hashlib.sha256(f"{salt}{value}".encode()).hexdigest()[:16]


def log_file(directory: Path, moment: datetime) -> Path:
    return directory / f"predictions-{moment.strftime('%Y-%m-%d')}.jsonl"


class PredictionLog:
    def __init__(
        self,
        directory: Path,
        stage: str,
        sensitive: Iterable[str] = (),
        capacity: int = 10_000,
        on_drop: Callable[[], None] = lambda: None,
    ):
        self.directory = directory
        self.stage = stage  # the stage served (`local`: the working copy), beside each entry's version
        self.sensitive = frozenset(sensitive)
        self.salt = os.environ.get(SALT_VARIABLE, "")
        self.entries: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=capacity)
        self.on_drop = on_drop
        self.writer = threading.Thread(target=self.write_forever, name="prediction-log", daemon=True)
        self.writer.start()

    def record(
        self,
        request_id: str,
        endpoint: str,
        version: str,
        role: str,
        inputs: list[dict[str, Any]],
        outputs: dict[str, Any],
        latency_ms: float | None = None,
        error: str | None = None,
    ) -> None:
        """Queue one request's entry; never blocks (a full queue drops it).

        `latency_ms` is the version's own scoring time; `error` says why it failed to score.
        """
        now = datetime.now(UTC)
        entry = {
            "request_id": request_id,
            "time": now.isoformat(timespec="milliseconds"),
            "endpoint": endpoint,
            "stage": self.stage,
            "model_version": version,
            "role": role,
            "inputs": [self.masked(row) for row in inputs],
            "outputs": outputs,
            "latency_ms": None if latency_ms is None else round(latency_ms, 3),
        }
        if error is not None:
            entry["error"] = error
        try:
            self.entries.put_nowait(entry)
        except queue.Full:
            self.on_drop()

    def masked(self, row: dict[str, Any]) -> dict[str, Any]:
        return {
            column: pseudonym(value, self.salt) if column in self.sensitive else value
            for column, value in row.items()
        }

    def write_forever(self) -> None:
        """Write entries as they come, in batches, until told to stop."""
        stopping = False
        while not stopping:
            batch = [self.entries.get()]
            while True:
                try:
                    batch.append(self.entries.get_nowait())
                except queue.Empty:
                    break
            stopping = STOP in batch
            self.write([entry for entry in batch if entry is not STOP])

    def write(self, batch: list[dict[str, Any]]) -> None:
        if not batch:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        by_file: dict[Path, list[str]] = {}
        for entry in batch:
            moment = datetime.fromisoformat(entry["time"])
            by_file.setdefault(log_file(self.directory, moment), []).append(
                json.dumps(entry, ensure_ascii=False, default=str)
            )
        for path, lines in by_file.items():
            with path.open("a", encoding="utf-8") as output:
                output.write("\n".join(lines) + "\n")

    def close(self, timeout: float = 10.0) -> None:
        """Write everything queued, then stop the writer."""
        self.entries.put(STOP, timeout=timeout)
        self.writer.join(timeout)


def read_log(path: Path, roles: tuple[str, ...] = ("stable", "candidate")) -> pd.DataFrame:
    """A log as a table: one row per scored row, its inputs, `prediction` and `model_version`.

    Shadow entries are left out (no caller saw them), as are requests that were refused.
    """
    rows = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            entry = json.loads(line)
            if entry.get("role") not in roles:
                continue
            predictions = entry["outputs"].get("predictions", [])
            for row, prediction in zip(entry["inputs"], predictions, strict=False):
                rows.append({**row, "prediction": prediction, "model_version": entry["model_version"]})
    return pd.DataFrame(rows)
