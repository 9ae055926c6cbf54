"""In a baked project, drift is reported on a pull request and caught in production batches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import copy_project, run

pytestmark = pytest.mark.slow


def drift_report(project: Path, directory: str = "reports/drift") -> tuple[dict, str]:
    report = project / directory
    return json.loads((report / "drift.json").read_text()), (report / "drift.md").read_text()


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_the_drift_check_says_plainly_that_there_is_no_reference_yet(ready_project, task):
    project = ready_project(task)

    run("make", "drift", cwd=project)

    report, markdown = drift_report(project)

    assert report["status"] == "no_reference"
    assert markdown.splitlines()[0] == (
        "ℹ️ no drift check: there is no reference data yet; "  # noqa: RUF001
        "`make drift-reference BASE=main` fetches the base branch's data"
    )


def test_a_branch_is_compared_with_the_data_of_its_base_branch(ready_project, tmp_path):
    project = copy_project(ready_project("classification"), tmp_path)
    run("git", "add", "--all", cwd=project)
    run("git", "commit", "--quiet", "--no-verify", "-m", "Run the pipeline", cwd=project)
    run("git", "checkout", "--quiet", "-b", "raise-prices", cwd=project)

    reference = run("make", "drift-reference", "BASE=main", cwd=project)
    unchanged = run("make", "pipeline", "drift", cwd=project)

    commit = run("git", "rev-parse", "main", cwd=project).stdout.strip()[:7]
    assert f"the reference is main ({commit}): data/raw/customers.csv in git" in reference.stdout
    assert f"drift: ✅ no drift: the data is identical to main at {commit}" in unchanged.stdout
    assert drift_report(project)[0]["status"] == "unchanged"

    raw = project / "data" / "raw" / "customers.csv"
    lines = raw.read_text().splitlines()
    header = lines[0].split(",")
    charges = header.index("monthly_charges")
    shifted = []
    for line in lines[1:]:
        cells = line.split(",")
        if cells[charges]:
            cells[charges] = f"{float(cells[charges]) + 40:.2f}"
        shifted.append(",".join(cells))
    raw.write_text("\n".join([lines[0], *shifted]) + "\n")
    run("make", "pipeline", "drift", cwd=project)

    report, markdown = drift_report(project)
    assert report["status"] == "compared"
    assert report["reference"] == f"main at {commit}"
    assert report["drifted_columns"] == ["monthly_charges"]
    assert [line.split("|")[1].strip() for line in markdown.splitlines() if line.endswith("⚠️ yes |")][
        -1:
    ] == ["`monthly_charges`"]
    assert (project / "reports" / "drift" / "drift.html").stat().st_size > 100_000


def test_a_missing_base_revision_is_a_clear_error(ready_project):
    result = run(
        "make", "drift-reference", "BASE=no-such-branch", cwd=ready_project("classification"), check=False
    )

    assert result.returncode != 0
    assert (
        "drift-reference: error: 'no-such-branch' is not a git revision of this repository" in result.stderr
    )


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_make_monitor_catches_the_shifted_sample_batch_and_passes_the_stable_one(
    ready_project, tmp_path, task
):
    project = copy_project(ready_project(task), tmp_path)
    run("make", "sample-batches", cwd=project)

    shifted = run("make", "monitor", "CURRENT=data/batches/shifted.csv", cwd=project, check=False)

    assert shifted.returncode != 0
    assert "monitor] Error 3" in shifted.stderr  # make passes on the monitor command's own exit status
    assert "monitor: ⚠️ drift in 2 of " in shifted.stdout
    issue = (project / "reports" / "monitor" / "issue.md").read_text()
    assert issue.startswith("## Production data drift\n")
    report, _ = drift_report(project, "reports/monitor")
    assert len(report["drifted_columns"]) == 2

    stable = run("make", "monitor", "CURRENT=data/batches/stable.csv", cwd=project)

    assert "monitor: ✅ no drift: 0 of " in stable.stdout
    assert drift_report(project, "reports/monitor")[0]["drift_detected"] is False


def test_make_monitor_on_a_missing_batch_is_a_clear_error_and_writes_nothing(ready_project):
    project = ready_project("regression")  # no copy: no monitor runs in the shared project

    result = run("make", "monitor", "CURRENT=data/batches/nowhere.csv", cwd=project, check=False)

    assert result.returncode != 0
    assert "monitor: error: no such batch file: data/batches/nowhere.csv" in result.stderr
    assert not (project / "reports" / "monitor").exists()
