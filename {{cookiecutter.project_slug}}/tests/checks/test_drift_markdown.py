import pytest

from {{ cookiecutter.package_name }}.checks.drift_findings import ColumnDrift, DriftSummary
from {{ cookiecutter.package_name }}.checks.drift_markdown import drift_markdown, verdict


def column(name: str, drifted: bool, kind: str = "numerical") -> ColumnDrift:
    return ColumnDrift(name, kind, "wasserstein", 0.5 if drifted else 0.01, 0.1, drifted)


def summary(drifted: list[str], prediction_drifted: bool, total: int = 8) -> DriftSummary:
    names = [*drifted, *(f"stable_{index}" for index in range(total - len(drifted)))]
    return DriftSummary(
        status="compared",
        reference="main at 1a2b3c4",
        current="data/interim/ingested.csv",
        drift_share=0.2,
        columns=tuple(column(name, name in drifted) for name in names),
        prediction=column("predicted_target", prediction_drifted, "categorical"),
        rows={"reference": 100, "current": 90, "reference_compared": 100, "current_compared": 90},
    )


@pytest.mark.parametrize(
    ("drifted", "prediction_drifted", "expected"),
    [
        ([], False, "✅ no drift: 0 of 8 columns drifted"),
        (["a"], False, "✅ no drift: 1 of 8 columns (`a`) drifted, below the 20% threshold"),
        (["a", "b"], False, "⚠️ drift in 2 of 8 columns (`a`, `b`)"),
        (["a", "b"], True, "⚠️ drift in 2 of 8 columns (`a`, `b`); predictions drifted"),
        ([], True, "⚠️ predictions drifted; 0 of 8 columns drifted"),
        (["a"], True, "⚠️ predictions drifted; 1 of 8 columns (`a`) drifted"),
    ],
)
def test_the_verdict_says_what_drifted_in_one_line(drifted, prediction_drifted, expected):
    assert verdict(summary(drifted, prediction_drifted)) == expected


def test_the_report_names_both_tables_and_lists_the_model_then_drifted_columns_first():
    markdown = drift_markdown(summary(["z_last"], False, total=3))

    lines = markdown.splitlines()
    assert lines[2] == "Compared data/interim/ingested.csv (90 rows) with main at 1a2b3c4 (100 rows)."
    assert lines[4] == "| column | type | test | score | threshold | drifted |"
    assert [line.split("|")[1].strip() for line in lines[6:]] == [
        "`predicted_target` (model)",
        "`z_last`",
        "`stable_0`",
        "`stable_1`",
    ]
