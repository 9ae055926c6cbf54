"""The README's first command, `make demo`, works and shows what it promises."""

from __future__ import annotations

import pytest

from .conftest import TEMPLATE_DIR, run

pytestmark = pytest.mark.slow


def test_make_demo_generates_runs_and_shows_the_metrics(tmp_path):
    demo_dir = tmp_path / "demo"

    result = run("make", "demo", f"DEMO_DIR={demo_dir}", cwd=TEMPLATE_DIR)

    project = demo_dir / "customer-churn"
    assert (project / "reports" / "metrics.json").is_file()
    assert "Data and pipelines are up to date." in result.stdout
    assert " passed" in result.stdout
    metrics_table = result.stdout.split("==> The model's metrics on the held-out set")[1]
    assert "reports/metrics.json" in metrics_table
    assert "roc_auc" in metrics_table
