"""Small synthetic datasets and matching params, for both tasks, so tests run in seconds."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import Params, Task

TASKS: tuple[Task, ...] = ("classification", "regression")


def synthetic_frame(task: Task, rows: int = 160, seed: int = 0) -> pd.DataFrame:
    """Numeric and categorical columns with gaps, and a target that depends on both."""
    rng = np.random.default_rng(seed)
    size = rng.normal(50, 15, rows)
    colour = rng.choice(["red", "green", "blue"], rows)
    signal = (size - 50) / 15 + (colour == "red") * 1.5 + rng.normal(0, 0.3, rows)
    frame = pd.DataFrame(
        {
            "row_id": np.arange(rows),
            "size": size,
            "count": rng.integers(0, 10, rows),
            "colour": colour,
            "target": np.where(signal > 0.4, "high", "low") if task == "classification" else 10 * signal,
        }
    )
    frame.loc[rng.random(rows) < 0.1, "size"] = np.nan
    frame.loc[rng.random(rows) < 0.1, "colour"] = np.nan
    return frame


def model_tests_section(task: Task) -> dict[str, object]:
    """Model tests the synthetic frame's model passes: `count` is noise, `size` raises the target."""
    classification = task == "classification"
    return {
        "gates": {"roc_auc": 0.7} if classification else {"r2": 0.5},
        "regression_tolerance": 0.02,
        "score_class": "high" if classification else None,
        "invariance": [{"column": "count", "tolerance": 0.05 if classification else 0.5}],
        "directional": [{"column": "size", "increase": 15, "expect": "higher"}],
        "minimum_functionality": [
            {"name": "a big red one", "row": {"size": 90, "colour": "red"}}
            | ({"expect": "high"} if classification else {"between": [10, 100]})
        ],
        "slices": {
            "column": "colour",
            "metric": "accuracy" if classification else "mae",
            "bound": 0.5 if classification else 10,
            "min_rows": 5,
        },
    }


def make_params(task: Task, root: Path, **overrides: object) -> Params:
    """Params for the synthetic frame, with every path under `root`."""
    estimator = "logistic_regression" if task == "classification" else "ridge"
    raw: dict[str, object] = {
        "task": task,
        "seed": 7,
        "base_branch": "main",
        "data": {
            "source": str(root / "source.csv"),
            "target": "target",
            "drop_columns": ["row_id"],
            "download": {"max_bytes": 10_000_000, "timeout_seconds": 30},
        },
        "split": {"test_size": 0.25, "stratify": True},
        "model": {"estimator": estimator, "hyperparameters": {}},
        "evaluate": {"permutation_repeats": 2},
        "report": {"publish_plots": False},
        "drift": {
            "drift_share": 0.2,
            "sample_rows": 5000,
            "noise_rounds": 1000,
            "false_alarm_rate": 0.005,
            "numerical": {"method": "wasserstein", "threshold": 0.1},
            "categorical": {"method": "jensenshannon", "threshold": 0.1},
        },
        "model_tests": model_tests_section(task),
        "paths": {
            "ingested": str(root / "interim/ingested.csv"),
            "ingest_counts": str(root / "interim/ingest_counts.json"),
            "data_schema": str(root / "schema.yaml"),
            "validation": str(root / "reports/validation.json"),
            "validation_summary": str(root / "reports/validation.md"),
            "train": str(root / "processed/train.csv"),
            "test": str(root / "processed/test.csv"),
            "model": str(root / "models/model.skops"),
            "model_metadata": str(root / "models/model.json"),
            "metrics": str(root / "reports/metrics.json"),
            "metrics_provenance": str(root / "reports/metrics_provenance.json"),
            "plots": str(root / "reports/plots"),
            "figures": str(root / "reports/figures"),
            "pr_report": str(root / "reports/pr_report.md"),
            "drift_reference": str(root / "reference"),
            "drift": str(root / "reports/drift"),
            "monitor": str(root / "reports/monitor"),
            "batches": str(root / "batches"),
            "model_tests": str(root / "reports/model_tests.json"),
            "model_tests_summary": str(root / "reports/model_tests.md"),
            "latency": str(root / "reports/latency.json"),
        },
    }
    raw.update(overrides)
    return Params.model_validate(raw)


@pytest.fixture(params=TASKS)
def task(request: pytest.FixtureRequest) -> Task:
    return request.param


@pytest.fixture
def frame(task: Task) -> pd.DataFrame:
    return synthetic_frame(task)


@pytest.fixture
def params(task: Task, tmp_path: Path) -> Params:
    return make_params(task, tmp_path)


@contextmanager
def served(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve with `handler` on 127.0.0.1 in a thread, for the length of the `with` block.

    The server looks for its shutdown every 10 ms, not every 0.5 s: each test's teardown waits for it.
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:  # a failed test leaves no server listening
        server.shutdown()
        server.server_close()


def commit(repository: Path, files: dict[str, str]) -> str:
    """Write files and commit them in a (new) git repository; return the commit hash."""
    for name, text in files.items():
        (repository / name).parent.mkdir(parents=True, exist_ok=True)
        (repository / name).write_text(text)
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]
    subprocess.run(["git", "init", "--quiet", "-b", "main"], cwd=repository, check=True)
    subprocess.run(["git", "add", "--all"], cwd=repository, check=True)
    subprocess.run(["git", *identity, "commit", "--quiet", "-m", "change"], cwd=repository, check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repository, capture_output=True, text=True)
    return head.stdout.strip()


@pytest.fixture
def repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty directory to make a git repository in, as the working directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
