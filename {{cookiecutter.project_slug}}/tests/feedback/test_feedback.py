"""Production feedback: labelled batches join the training data once, labels meet the log,
the model is scored on labelled data, and the retraining pull request's text is safe markdown."""

import json
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.checks.performance import performance
from {{ cookiecutter.package_name }}.data.schema import infer_schema, schema_text
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.feedback.add_data import REJECTION_FILE, add_batch, ledger_entries
from {{ cookiecutter.package_name }}.feedback.labels import join, served_rows
from {{ cookiecutter.package_name }}.feedback.retrain import due_because
from {{ cookiecutter.package_name }}.model.evaluate import score
from {{ cookiecutter.package_name }}.model.train import train
from {{ cookiecutter.package_name }}.tables import features_and_target

from ..conftest import make_params, synthetic_frame


@pytest.fixture
def training(tmp_path):
    """Training data on disk with its schema, and params whose ledger is under tmp_path."""
    params = make_params(
        "classification", tmp_path, feedback={"ledger": str(tmp_path / "batches.jsonl"), "min_new_rows": 100}
    )
    frame = synthetic_frame("classification", rows=200, seed=0)
    frame.head(170).to_csv(params.data.source, index=False)
    schema = infer_schema(frame, params.data, params.task)  # the 30 unseen rows fit it too
    params.paths.data_schema.write_text(schema_text(schema))
    return params


def unseen_rows() -> pd.DataFrame:
    """Rows the training data does not have yet, that schema.yaml accepts."""
    return synthetic_frame("classification", rows=200, seed=0).tail(30)


def batch_file(tmp_path, frame, name="batch.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return str(path)


def test_a_valid_batch_is_appended_once_and_recorded(training, tmp_path):
    before = Path(training.data.source).read_text()
    batch = unseen_rows()
    source = batch_file(tmp_path, batch[list(reversed(batch.columns))])  # column order does not matter

    added = add_batch(source, training, now="2026-12-01T00:00:00Z")
    again = add_batch(source, training)

    after = Path(training.data.source).read_text()
    assert after.startswith(before)
    assert len(pd.read_csv(training.data.source)) == 200
    assert (added.rows, added.already_added, again.already_added) == (30, False, True)
    [entry] = ledger_entries(training.feedback.ledger)
    assert entry == {"source": source, "added_at": "2026-12-01T00:00:00Z", "rows": 30, "sha256": added.sha256}


def test_a_batch_that_breaks_the_schema_is_rejected_with_a_report_and_nothing_changes(training, tmp_path):
    before = Path(training.data.source).read_text()
    batch = unseen_rows().assign(colour="purple")

    with pytest.raises(
        PipelineError, match=r"failed schema.yaml's checks, nothing was added.*\n  colour: allowed"
    ):
        add_batch(batch_file(tmp_path, batch), training)

    assert Path(training.data.source).read_text() == before
    assert not training.feedback.ledger.exists()
    assert "`colour`" in (training.paths.monitor / REJECTION_FILE).read_text()


def test_a_batch_that_repeats_identifiers_of_the_training_data_is_rejected(training, tmp_path):
    batch = pd.read_csv(training.data.source).head(5)

    with pytest.raises(
        PipelineError, match=r"row_id: unique \(expected no value the training data already has\)"
    ):
        add_batch(batch_file(tmp_path, batch), training)


def test_a_batch_with_other_columns_is_refused_by_name(training, tmp_path):
    batch = synthetic_frame("classification", rows=10, seed=1).drop(columns=["target"]).assign(extra=1)

    with pytest.raises(PipelineError, match="missing target; unexpected extra"):
        add_batch(batch_file(tmp_path, batch), training)


def test_outcomes_join_the_logged_rows_by_request_id_and_row(training):
    served = pd.DataFrame(
        {
            "size": [1.0, 2.0, 3.0],
            "colour": ["red", "blue", "red"],
            "request_id": ["a", "a", "b"],
            "row": [0, 1, 0],
        }
    )
    labels = pd.DataFrame({"request_id": ["a", "b"], "row": [1, 0], "target": ["high", "low"]})

    joined = join(served, labels, training)

    assert joined.to_dict("records") == [
        {"size": 2.0, "colour": "blue", "target": "high"},
        {"size": 3.0, "colour": "red", "target": "low"},
    ]


def test_the_log_gives_one_row_per_answered_input_and_skips_shadow_answers(tmp_path):
    entries = [
        {
            "request_id": "a",
            "role": "stable",
            "inputs": [{"size": 1.0}, {"size": 2.0}],
            "outputs": {"predictions": [1, 0]},
        },
        {"request_id": "a", "role": "shadow", "inputs": [{"size": 1.0}], "outputs": {"predictions": [0]}},
        {"request_id": "b", "role": "candidate", "inputs": [{"size": 3.0}], "outputs": {"predictions": [1]}},
    ]
    (tmp_path / "predictions-2026-12-01.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))

    rows = served_rows(tmp_path)

    assert rows.to_dict("records") == [
        {"size": 1.0, "request_id": "a", "row": 0},
        {"size": 2.0, "request_id": "a", "row": 1},
        {"size": 3.0, "request_id": "b", "row": 0},
    ]


def test_two_outcomes_for_one_request_are_refused(training):
    served = pd.DataFrame({"size": [1.0], "request_id": ["a"], "row": [0]})
    labels = pd.DataFrame({"request_id": ["a", "a"], "target": ["high", "low"]})

    with pytest.raises(PipelineError, match="request a more than one outcome"):
        join(served, labels, training)


def test_a_model_that_got_worse_on_labelled_data_is_a_drop(training):
    frame = synthetic_frame("classification", rows=400, seed=0)
    model = train(*features_and_target(frame, training.data), training)
    test_scores = score(model, *features_and_target(frame, training.data), "classification")
    training.paths.metrics.parent.mkdir(parents=True, exist_ok=True)
    training.paths.metrics.write_text(json.dumps(test_scores))
    flipped = frame.assign(target=frame["target"].map({"high": "low", "low": "high"}))

    same, worse = performance(model, frame, training), performance(model, flipped, training)

    assert same.drops == []
    assert worse.drops == ["roc_auc"]
    assert "| roc_auc |" in worse.markdown(training.model_tests.gates)


def test_a_labelled_batch_too_small_to_judge_is_not_a_drop(training):
    frame = synthetic_frame("classification", rows=400, seed=0)
    model = train(*features_and_target(frame, training.data), training)
    flipped = frame.assign(target=frame["target"].map({"high": "low", "low": "high"}))

    checked = performance(model, flipped.head(20), training)

    assert checked.drops == []
    assert checked.verdict() == (
        "20 labelled rows, too few to judge the metrics (model_tests.min_labelled_rows: 100)"
    )
    assert checked.markdown(training.model_tests.gates).startswith(
        "## Model performance on the labelled batch: not judged\n\n20 labelled rows, too few"
    )


def test_retraining_is_due_for_a_reason_an_open_drift_issue_or_enough_rows(training):
    assert due_because("drift found", None, 0, training) == "drift found"
    assert due_because(None, 5, 0, training) == "drift issue #5 is open"
    assert due_because(None, None, 100, training).startswith("100 new labelled rows")
    assert due_because(None, None, 99, training) is None
