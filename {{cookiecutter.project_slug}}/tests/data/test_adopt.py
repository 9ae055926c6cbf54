import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from {{ cookiecutter.package_name }}.config import DataParams, Params, load_params
from {{ cookiecutter.package_name }}.data.adopt import infer_task, main, model_tests_text, replace_section
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.model.params_check import check_model_tests, model_tests_problems

from ..conftest import make_params, synthetic_frame

PROJECT_PARAMS = Path(__file__).resolve().parents[2] / "params.yaml"


@pytest.mark.parametrize(
    ("values", "task", "why"),
    [
        (["yes", "no", "no"], "classification", "text"),
        ([True, False, True], "classification", "true/false"),
        ([0, 1, 2, 1, 0], "classification", "3 distinct whole numbers (0, 1, 2)"),
        (list(range(40)), "regression", "40 distinct values"),
        ([0.5, 1.25, 3.0], "regression", "numbers"),
    ],
)
def test_the_task_is_inferred_from_the_target_and_the_reason_given(values, task, why):
    inferred, reason = infer_task(pd.Series(values))

    assert inferred == task
    assert why in reason


def derived(frame: pd.DataFrame, task, tmp_path: Path, drop=("row_id",)) -> Params:
    """The project's params with the model_tests adopt derives for a frame."""
    data = DataParams(source="data.csv", target="target", drop_columns=tuple(drop))
    section = yaml.safe_load(model_tests_text(frame, data, task, {}))["model_tests"]
    return make_params(task, tmp_path, data=data.model_dump(), model_tests=section)


def test_derived_model_tests_hold_on_the_data_they_come_from(frame, task, tmp_path):
    params = derived(frame, task, tmp_path)
    inputs = ["size", "count", "colour"]
    classes = sorted(frame["target"].unique()) if task == "classification" else None

    assert model_tests_problems(params, inputs, classes) == []
    assert params.model_tests.gates == {}
    assert params.model_tests.slices is not None
    assert params.model_tests.slices.column == "colour"  # text with 3 levels, before numbers
    assert params.model_tests.invariance == params.model_tests.directional == ()


def test_a_binary_target_scores_its_rarest_class_and_a_multiclass_one_none(tmp_path):
    rows = 90
    frame = pd.DataFrame({"row_id": range(rows), "x": np.arange(rows) % 7})
    frame["target"] = ["rare" if i % 10 == 0 else "common" for i in range(rows)]
    binary = derived(frame, "classification", tmp_path)
    frame["target"] = np.arange(rows) % 3
    multiclass = derived(frame, "classification", tmp_path)
    text = model_tests_text(frame, DataParams(source="d.csv", target="target"), "classification", {})

    assert binary.model_tests.score_class == "rare"
    assert multiclass.model_tests.score_class is None
    assert "3 classes: metrics are macro averages" in text
    assert multiclass.model_tests.slices.column == "x"  # whole numbers with 7 levels


def test_the_examples_in_comments_name_the_datas_own_columns():
    data = DataParams(source="d.csv", target="target", drop_columns=("row_id",))
    text = model_tests_text(synthetic_frame("regression"), data, "regression", {})
    examples = "\n".join(line.split("#", 1)[1] for line in text.splitlines() if line.lstrip().startswith("#"))

    assert "{column: colour" in examples
    assert "{column: size" in examples
    assert "between:" in examples
    assert "row_id" not in examples


def test_a_section_is_replaced_and_every_other_line_kept():
    text = "# top\ntask: x\ndata:\n  a: 1\n  # inner\n\n# about b\nb:\n  c: 2\n"

    replaced = replace_section(text, "data", "data:\n  a: 2\n")

    assert replaced == "# top\ntask: x\ndata:\n  a: 2\n\n# about b\nb:\n  c: 2\n"


@pytest.fixture
def project_dir(tmp_path, monkeypatch):
    """A directory with the project's params.yaml, as the working directory."""
    shutil.copy(PROJECT_PARAMS, tmp_path / "params.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_adopt_writes_params_and_schema_keeps_comments_and_is_idempotent(project_dir, capsys):
    synthetic_frame("classification").to_csv(project_dir / "mine.csv", index=False)
    comments = [line for line in PROJECT_PARAMS.read_text().splitlines() if line.startswith("#")]

    main(["mine.csv", "--target", "target", "--drop", "row_id"])
    first = capsys.readouterr().out
    written = {name: (project_dir / name).read_text() for name in ("params.yaml", "schema.yaml")}
    main(["mine.csv", "--target", "target", "--drop", "row_id"])
    second = capsys.readouterr().out

    params = load_params(Path("params.yaml"))
    assert (params.task, params.data.source, params.data.drop_columns) == (
        "classification",
        "data/raw/mine.csv",
        ("row_id",),
    )
    assert (project_dir / "data/raw/mine.csv").read_bytes() == (project_dir / "mine.csv").read_bytes()
    assert [line for line in written["params.yaml"].splitlines() if line.startswith("#")] == comments
    assert "inferred: it holds text" in first
    assert {name: (project_dir / name).read_text() for name in written} == written
    assert "params.yaml unchanged" in second
    assert "schema.yaml unchanged" in second


def test_adopting_changed_data_shows_the_schema_diff(project_dir, capsys):
    frame = synthetic_frame("regression")
    frame.to_csv(project_dir / "mine.csv", index=False)
    main(["mine.csv", "--target", "target", "--drop", "row_id"])
    frame.assign(count=frame["count"] + 100).to_csv(project_dir / "mine.csv", index=False)
    capsys.readouterr()

    main(["mine.csv", "--target", "target", "--drop", "row_id"])

    out = capsys.readouterr().out
    assert "--- schema.yaml (before)" in out
    assert "+  count: {dtype: integer, nullable: false, min: 100, max: 109}" in out


def test_adopt_names_every_missing_column_at_once(project_dir):
    synthetic_frame("classification").to_csv(project_dir / "mine.csv", index=False)

    with pytest.raises(PipelineError, match=r"TARGET 'label' is not a column; DROP 'id' is not a column"):
        main(["mine.csv", "--target", "label", "--drop", "id"])


def test_a_refused_dataset_is_not_copied_under_data_raw(project_dir):
    synthetic_frame("classification").assign(target="high").to_csv(project_dir / "mine.csv", index=False)

    with pytest.raises(PipelineError, match="a model needs at least two different target values"):
        main(["mine.csv", "--target", "target"])
    assert not (project_dir / "data/raw/mine.csv").exists()


def test_an_estimator_the_inferred_task_does_not_offer_is_named(project_dir):
    params_file = project_dir / "params.yaml"
    params_file.write_text(params_file.read_text().replace("random_forest", "logistic_regression"))
    synthetic_frame("regression").to_csv(project_dir / "mine.csv", index=False)

    with pytest.raises(PipelineError, match=r"'logistic_regression' is not available for regression"):
        main(["mine.csv", "--target", "target", "--drop", "row_id"])


def test_every_problem_of_model_tests_is_reported_at_once(params, task):
    tests = params.model_tests.model_dump()
    tests.update(
        gates={"roc_auc": 0.7, "r2": 0.5, "nonsense": 1},
        invariance=[{"column": "region", "tolerance": 0.1}],
        directional=[{"column": "support_calls", "increase": 1, "expect": "higher"}],
        slices={"column": "contract", "metric": "accuracy", "bound": 0.5},
        score_class="yes" if task == "classification" else None,
    )
    broken = params.model_copy(update={"model_tests": type(params.model_tests).model_validate(tests)})

    with pytest.raises(PipelineError) as raised:
        check_model_tests(broken, ["size", "count", "colour"], ["high", "low"])

    message = str(raised.value)
    assert "model_tests.invariance[0].column 'region': not a model input: size, count, colour" in message
    assert "model_tests.directional[0].column 'support_calls'" in message
    assert "model_tests.slices.column 'contract'" in message
    assert "model_tests.gates.nonsense: not a" in message
    if task == "classification":
        assert "model_tests.score_class 'yes': not a class of target; one of: high, low" in message
        assert "model_tests.gates.r2" in message
    else:
        assert "model_tests.slices.metric 'accuracy': not a regression slice metric" in message
    assert message.count("\n  model_tests.") >= 5
