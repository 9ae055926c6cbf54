from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.report import Gate, confusion_table, direction, importance_chart, read_gate, verdict


def test_a_gate_summary_gives_its_status_from_the_first_line(tmp_path):
    names = ("passed.md", "failed.md", "warned.md", "nothing.md")
    passed, failed, warned, nothing = (tmp_path / name for name in names)
    passed.write_text("✅ 12 checks passed\n\ndetails\n", encoding="utf-8")
    failed.write_text("❌ 2 columns out of range\n", encoding="utf-8")
    warned.write_text("⚠️ drift in 1 column\n", encoding="utf-8")
    nothing.write_text("\N{INFORMATION SOURCE}\ufe0f no drift check: no reference yet\n", encoding="utf-8")

    statuses = [read_gate("gate", path).status for path in (passed, failed, warned, nothing)]

    assert statuses == ["pass", "fail", "warn", "not run"]


def test_a_missing_summary_is_not_run_and_says_which_file():
    gate = read_gate("Drift", Path("nowhere/drift.md"))

    assert gate.status == "not run"
    assert "nowhere/drift.md" in gate.summary


@pytest.mark.parametrize(
    ("statuses", "stale", "expected"),
    [
        (["pass", "pass"], [], "✅ **All gates passed**"),
        (["pass", "not run"], [], "✅ **All gates passed** · not run: B"),
        (["warn", "pass"], [], "⚠️ **Passed with warnings: A**"),
        (["fail", "warn"], [], "❌ **Failed: A**"),
        (["pass", "pass"], ["train"], "❌ **Failed: pipeline not up to date (train: run `make pipeline`)**"),
    ],
)
def test_the_verdict_names_what_failed_first(statuses, stale, expected):
    gates = [Gate(name, status, "") for name, status in zip("AB", statuses, strict=True)]

    assert verdict(gates, stale) == expected


@pytest.mark.parametrize(
    ("metric", "change", "expected"),
    [
        ("roc_auc", 0.01, "▲ better"),
        ("roc_auc", -0.01, "▼ worse"),
        ("rmse", -2.0, "▲ better"),
        ("log_loss", 0.1, "▼ worse"),
        ("r2", 0.0, "="),
        ("r2", None, "new"),
    ],
)
def test_a_change_is_better_or_worse_by_the_metrics_direction(metric, change, expected):
    assert direction(metric, change) == expected


def test_the_importance_chart_keeps_the_largest_ten_and_quotes_names():
    table = pd.DataFrame({"feature": [f'f"{i}' for i in range(12)], "importance": range(12)})

    chart = importance_chart(table)

    assert chart[0] == "```mermaid"
    axis = next(line for line in chart if "x-axis" in line)
    assert axis.count('"') == 20
    assert '"f\'11"' in axis
    assert '"f\'0"' not in axis


def test_the_confusion_table_counts_actual_against_predicted():
    table = pd.DataFrame({"actual": ["a", "a", "b"], "predicted": ["a", "b", "b"]})

    lines = confusion_table(table)

    assert "| **a** | 1 | 1 |" in lines
    assert "| **b** | 0 | 1 |" in lines
