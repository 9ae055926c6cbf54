"""Data that tries to write markup into drift.md, the monitor's issue, model_tests.md and drift.html."""

import re
import warnings

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.checks.drift import evidently_report
from {{ cookiecutter.package_name }}.checks.drift_findings import ColumnDrift, DriftSummary
from {{ cookiecutter.package_name }}.checks.drift_markdown import drift_markdown, issue_markdown
from {{ cookiecutter.package_name }}.checks.model_tests import Outcome, summary
from {{ cookiecutter.package_name }}.checks.report_html import report_html
from {{ cookiecutter.package_name }}.outputs import visible

from ..conftest import make_params
from ..markup import HOSTILE, code_spans, inert, markup, table_rows

SCRIPT = "</script><script>alert(1)</script><!--"


def hostile_summary(names: list[str] = HOSTILE) -> DriftSummary:
    columns = tuple(ColumnDrift(name, "categorical", "psi", 0.5, 0.1, True) for name in names)
    return DriftSummary(
        status="compared",
        reference="main at 1a2b3c4",
        current="data/interim/ingested.csv",
        drift_share=0.2,
        columns=columns,
        prediction=ColumnDrift("x|`y`", "categorical", "psi", 0.0, 0.1, False),
        rows={"reference": 100, "current": 90, "reference_compared": 100, "current_compared": 90},
        notes=tuple(f"only the current data has: {name}" for name in names),
    )


def test_hostile_column_names_stay_in_their_cells_of_the_drift_table():
    markdown = drift_markdown(hostile_summary())

    assert table_rows(markdown) == len(HOSTILE) + 1
    assert code_spans(markdown)[-len(HOSTILE) - 1 :] == ["x|`y`", *map(visible, HOSTILE)]
    assert inert(markdown)
    notes = [line for line in markdown.splitlines() if line.startswith("- ")]
    assert len(notes) == len(HOSTILE)


def test_the_monitor_issue_shows_hostile_names_and_batch_paths_as_text():
    markdown = issue_markdown(hostile_summary(), "batch`|<b>.csv", "2026-01-01", None, "drift.html")
    clean = issue_markdown(hostile_summary(["a"]), "batch.csv", "2026-01-01", None, "drift.html")

    assert "``batch`|<b>.csv``" in markdown
    assert table_rows(markdown) == len(HOSTILE) + 1  # the model's predictions, then the columns
    assert inert(markdown, expected=markup(clean))


def test_hostile_slice_values_and_class_labels_stay_text_in_model_tests_md():
    outcomes = [Outcome("slices", f"worst {text}", "failed", f"f1 0.1 on colour={text}") for text in HOSTILE]

    markdown = summary(outcomes, note="2 classes")

    assert table_rows(markdown) == len(HOSTILE)
    assert inert(markdown)


def script_tags(page: str) -> int:
    return len(re.findall(r"<script\b", page, flags=re.IGNORECASE))


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """Evidently's report on clean data and on data whose names and values close its script."""
    params = make_params("classification", tmp_path_factory.mktemp("html"))
    reference = pd.DataFrame({"colour": ["red", "blue"] * 20, "size": [1.0, 2.0] * 20})
    result = {}
    for case, value, name in (("clean", "green", "size"), ("hostile", SCRIPT, SCRIPT + "<img src=x>")):
        current = pd.DataFrame({"colour": [value, "blue"] * 20, name: [1.5, 2.5] * 20})
        kinds = {"colour": "categorical", name: "numerical"}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy on a tiny sample; not what is tested here
            renamed = reference.rename(columns={"size": name})
            snapshot = evidently_report(renamed, current, kinds, params.drift, dict.fromkeys(kinds, 0.1))
        result[case] = report_html(snapshot)
    return result


def test_data_adds_no_script_to_the_drift_report(pages):
    assert script_tags(pages["clean"]) > 0
    assert script_tags(pages["hostile"]) == script_tags(pages["clean"])
    assert pages["hostile"].lower().count("</script") == pages["clean"].lower().count("</script")
    assert pages["hostile"].count("<!--") == pages["clean"].count("<!--")
    assert "alert(1)" in pages["hostile"]  # the value is still shown, as text
