import json
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.model.provenance import computed_for
from {{ cookiecutter.package_name }}.report.comment import (
    COMMENT_BUDGET,
    Gate,
    checked_for_this_model,
    confusion_table,
    cut_section,
    direction,
    fit_comment,
    importance_chart,
    read_gate,
    verdict,
)

from ..conftest import make_params


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
    rows = [{"feature": f'f"{i}', "importance": str(i)} for i in range(12)]

    chart = importance_chart(rows)

    assert chart[0] == "```mermaid"
    axis = next(line for line in chart if "x-axis" in line)
    assert axis.count('"') == 20
    assert '"f\'11"' in axis
    assert '"f\'0"' not in axis


def test_the_confusion_table_counts_actual_against_predicted():
    rows = [{"actual": actual, "predicted": predicted} for actual, predicted in ("aa", "ab", "bb")]

    lines = confusion_table(rows)

    assert "| `a` | 1 | 1 |" in lines
    assert "| `b` | 0 | 1 |" in lines


WHERE = "the `reports` artifact of this run"


def wide_table_section(title, rows):
    """A drift-like section: a verdict, a table with one row per column, a note after it."""
    header = ["| Column | Method | Score | Threshold | Drifted |", "|---|---|---:|---:|---|"]
    body = [
        f"| `column_{index:05d}_with_a_long_name` | wasserstein | 0.0123 | 0.1 | no |"
        for index in range(rows)
    ]
    return [f"## {title}", "", "✅ 0 of many columns drifted", "", *header, *body, "", "- a note", ""]


def test_a_report_within_the_budget_is_left_as_it_is():
    sections = [["✅ **All gates passed**", ""], wide_table_section("Drift", 3)]

    assert fit_comment(sections, WHERE) == "\n".join(line for section in sections for line in section)


def test_a_huge_table_is_cut_under_the_budget_keeping_its_header_and_saying_what_is_left():
    short = ["## Params", "", "No setting differs from `main`.", ""]
    sections = [["✅ **All gates passed**", ""], short, wide_table_section("Drift", 5000)]

    text = fit_comment(sections, WHERE)

    assert len(text) <= COMMENT_BUDGET
    assert "\n".join(short) in text
    lines = text.splitlines()
    header = lines.index("| Column | Method | Score | Threshold | Drifted |")
    assert lines[header + 1] == "|---|---|---:|---:|---|"
    note = next(index for index, line in enumerate(lines) if line.startswith("_… "))
    kept_rows = sum(line.startswith("| `column_") for line in lines)
    assert lines[note] == f"_… {5000 - kept_rows} more rows and 1 more line in {WHERE}._"
    assert lines[note - 1] == ""
    assert lines[note - 2].startswith("| `column_")
    assert len(text) > COMMENT_BUDGET - 200  # the budget is used, not just respected


def test_the_longest_sections_are_cut_to_the_same_length_and_short_ones_kept():
    sections = [
        wide_table_section("Drift", 3000),
        wide_table_section("Model tests", 2000),
        ["## Reproduce", ""],
    ]

    text = fit_comment(sections, WHERE, budget=30_000)

    assert len(text) <= 30_000
    assert text.count("_… ") == 2
    drift, model_tests = text.split("## Model tests")
    assert abs(len(drift) - len(model_tests)) < 200
    assert text.endswith("## Reproduce\n")


def test_a_cut_never_splits_a_table_header_or_a_code_block():
    table = wide_table_section("Drift", 50)
    chart = ["## Plots", "", "```mermaid", *(f"    line [{index}]" for index in range(50)), "```", ""]

    for limit in range(1, 400, 7):
        for section in (table, chart):
            kept = cut_section(section, limit, WHERE)
            assert sum(line.startswith("```") for line in kept) % 2 == 0
            headers = [index for index, line in enumerate(kept) if line.startswith("| Column")]
            assert all(kept[index + 1] == "|---|---|---:|---:|---|" for index in headers)
            assert all(kept[index + 2].startswith("| `column_") for index in headers)


def model_tests_for(params, recorded: dict) -> Gate:
    params.paths.model_tests.parent.mkdir(parents=True, exist_ok=True)
    params.paths.model_tests.write_text(json.dumps({"computed_for": recorded}), encoding="utf-8")
    return checked_for_this_model(Gate("Model tests", "pass", "✅ all 14 model tests passed"), params)


def test_model_tests_of_another_model_fail_the_report_as_stale(tmp_path):
    params = make_params("classification", tmp_path)
    for path, content in ((params.paths.model, b"model one"), (params.paths.test, b"a,b\n1,2\n")):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    tested = computed_for(params.paths.model, params.paths.test)

    current = model_tests_for(params, tested)
    params.paths.model.write_bytes(b"model two, retrained")
    stale = model_tests_for(params, tested)

    assert current.status == "pass"
    assert stale.status == "fail"
    assert stale.summary.startswith("❌ Stale: the model changed since these results were computed")
    assert "`make test-model`" in stale.summary
    assert stale.summary.endswith("✅ all 14 model tests passed")


def test_model_tests_that_name_no_model_are_stale(tmp_path):
    params = make_params("regression", tmp_path)

    gate = model_tests_for(params, {})

    assert gate.status == "fail"
    assert "the model and the data changed" in gate.summary


def test_a_drift_report_of_other_data_fails_the_report_as_stale(tmp_path):
    params = make_params("classification", tmp_path)
    for path, content in ((params.paths.model, b"model"), (params.paths.ingested, b"a,b\n1,2\n")):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    drift_json = params.paths.drift / "drift.json"
    drift_json.parent.mkdir(parents=True, exist_ok=True)
    recorded = computed_for(params.paths.model, params.paths.ingested)
    drift_json.write_text(json.dumps({"computed_for": recorded}), encoding="utf-8")
    gate = Gate("Drift", "pass", "✅ no drift: 0 of 2 columns drifted")

    current = checked_for_this_model(gate, params)
    params.paths.ingested.write_bytes(b"a,b\n1,2\n3,4\n")
    stale = checked_for_this_model(gate, params)

    assert current == gate
    assert stale.status == "fail"
    assert stale.summary.startswith("❌ Stale: the data changed since these results were computed")
    assert "`make drift`" in stale.summary
