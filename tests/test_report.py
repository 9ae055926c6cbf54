"""`make report` in a baked project: the PR comment's markdown, from a real branch and pipeline."""

from __future__ import annotations

import json
import re

import pytest

from .conftest import copy_project, run
from .test_pipeline import set_params

pytestmark = pytest.mark.slow


def test_make_report_on_a_branch_shows_the_changed_param_and_metric_deltas(ready_project, tmp_path):
    project = copy_project(ready_project("regression"), tmp_path)
    run("git", "add", "--all", cwd=project)
    run("git", "commit", "--quiet", "--no-verify", "-m", "First run", cwd=project)
    main_metrics = json.loads((project / "reports" / "metrics.json").read_text())
    run("git", "checkout", "--quiet", "-b", "shallower-trees", cwd=project)
    set_params(project, **{"model.hyperparameters.max_depth": 3})

    stale = run("make", "report", cwd=project)
    stale_verdict = (project / "reports" / "pr_report.md").read_text().splitlines()[0]
    run("make", "pipeline", cwd=project)
    # The shared project's model tests describe its model, not this branch's: the report would
    # rightly fail them as stale (tested in the project), so this branch has none.
    for results in (project / "reports").glob("model_tests.*"):
        results.unlink()
    run("make", "report", cwd=project)

    assert "report: wrote reports/pr_report.md" in stale.stdout
    assert stale_verdict.startswith("❌ **Failed: pipeline not up to date (train")
    report = (project / "reports" / "pr_report.md").read_text()
    # Drift has no reference on this branch, and the model tests were removed above.
    assert report.splitlines()[0].startswith("✅ **All gates passed** · not run: ")
    assert report.splitlines()[0].endswith("Drift")
    assert "| `model.hyperparameters.max_depth` | 10 | 3 |" in report
    new_metrics = json.loads((project / "reports" / "metrics.json").read_text())
    row = re.search(r"\| `rmse` \| ([\d.]+) \| ([\d.]+) \| ([+-][\d.e-]+) \| (▲ better|▼ worse) \|", report)
    assert row, report
    assert float(row[1]) == pytest.approx(main_metrics["rmse"], rel=1e-3)
    assert float(row[2]) == pytest.approx(new_metrics["rmse"], rel=1e-3)
    assert row[4] == ("▼ worse" if new_metrics["rmse"] > main_metrics["rmse"] else "▲ better")
    for section in ("## Data validation", "## Model tests", "## Drift", "## Plots", "## Reproduce"):
        assert section in report
    assert "Residuals" in report
    assert "git checkout " in report
