"""In a baked project, the README's commands work for real: setup, pipeline, test, lint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from .conftest import PACKAGE, copy_project, run

pytestmark = pytest.mark.slow

SANE_METRICS = {
    "classification": {"roc_auc": (0.7, 1.0), "balanced_accuracy": (0.6, 1.0), "accuracy": (0.65, 1.0)},
    "regression": {"r2": (0.6, 1.0), "rmse": (1.0, 80.0), "mae": (1.0, 60.0)},
}
STAGES = ("ingest", "validate", "split", "train", "evaluate")


@pytest.fixture(params=["classification", "regression"])
def project(request, ready_project) -> Path:
    return ready_project(request.param)


def metrics(project: Path) -> dict[str, float]:
    return json.loads((project / "reports" / "metrics.json").read_text())


def set_params(project: Path, **changes: object) -> None:
    """Edit params.yaml as a user would, by dotted key."""
    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text())
    for dotted, value in changes.items():
        *parents, leaf = dotted.split(".")
        section = params
        for parent in parents:
            section = section[parent]
        section[leaf] = value
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def ran_stages(output: str) -> list[str]:
    return [stage for stage in STAGES if f"Running stage '{stage}'" in output]


def test_pipeline_writes_sane_metrics_model_and_figures(project):
    task = yaml.safe_load((project / "params.yaml").read_text())["task"]
    scores = metrics(project)

    for name, (low, high) in SANE_METRICS[task].items():
        assert low <= scores[name] <= high, f"{name}={scores[name]}"
    assert (project / "models" / "model.skops").stat().st_size > 0
    described = json.loads((project / "models" / "model.json").read_text())
    assert described["estimator"] == "random_forest"
    assert described["task"] == task
    figures = list((project / "reports" / "figures").glob("*.png"))
    assert len(figures) >= 3
    assert set(yaml.safe_load((project / "dvc.lock").read_text())["stages"]) == set(STAGES)


def test_a_second_run_is_a_no_op(project):
    lock_before = (project / "dvc.lock").read_text()

    result = run("make", "pipeline", cwd=project)

    assert ran_stages(result.stdout) == []
    assert "Data and pipelines are up to date." in result.stdout
    assert (project / "dvc.lock").read_text() == lock_before


def test_the_model_tests_pass_on_each_tasks_model(project):
    """The project's unit tests run whole elsewhere: in pr.yml's checks job, on a fresh clone
    under act (test_github_flow); test_adopt runs those that read params.yaml on each adopted
    dataset. Here each task's trained model passes its model tests."""
    result = run("make", "test-model", cwd=project)

    assert "model-tests: all " in result.stdout
    assert "failed" not in result.stdout


def test_pre_commit_hooks_pass_on_the_repository(project):
    result = run("make", "lint", cwd=project)

    assert "Failed" not in result.stdout


def test_make_help_lists_the_daily_commands(project):
    result = run("make", "help", cwd=project)

    for target in ("setup", "pipeline", "test", "lint", "metrics"):
        assert f"make {target}" in result.stdout


def test_a_model_param_change_reruns_only_training_and_evaluation(ready_project, tmp_path):
    project = copy_project(ready_project("classification"), tmp_path)
    set_params(project, **{"model.hyperparameters.n_estimators": 50})

    result = run("make", "pipeline", cwd=project)

    assert ran_stages(result.stdout) == ["train", "evaluate"]
    assert (
        json.loads((project / "models" / "model.json").read_text())["hyperparameters"]["n_estimators"] == 50
    )


def model_md5(project: Path) -> str:
    """The model file's hash as dvc.lock records it."""
    outs = yaml.safe_load((project / "dvc.lock").read_text())["stages"]["train"]["outs"]
    return next(out["md5"] for out in outs if out["path"].endswith(".skops"))


def test_the_same_data_and_params_give_the_same_metrics_and_model_file(ready_project, tmp_path):
    original = ready_project("regression")
    project = copy_project(original, tmp_path)

    run("uv", "run", "dvc", "repro", "--force", cwd=project)

    assert metrics(project) == metrics(original)
    # Byte for byte: a retrain that changes nothing leaves DVC nothing to store or push.
    assert model_md5(project) == model_md5(original)


def test_a_failing_stage_leaves_the_last_good_model_and_metrics(ready_project, tmp_path):
    project = copy_project(ready_project("classification"), tmp_path)
    model_before = (project / "models" / "model.skops").read_bytes()
    metrics_before = metrics(project)
    set_params(project, **{"model.hyperparameters.max_depth": -3})

    result = run("make", "pipeline", cwd=project, check=False)

    assert result.returncode != 0
    assert "train: error: training random_forest failed: The 'max_depth' parameter" in result.stderr
    assert (project / "models" / "model.skops").read_bytes() == model_before
    assert metrics(project) == metrics_before


def test_a_users_own_csv_works_through_params_and_make_schema(ready_project, tmp_path):
    project = copy_project(ready_project("classification"), tmp_path)
    rows = [
        f"W{i},{5 + (i % 7) * 0.4:.1f},{0.2 + (i % 5) * 0.1:.2f},{['red', 'white', 'rose'][i % 3]},"
        f"{'good' if (i % 7) + (i % 3) > 5 else 'plain'}"
        for i in range(300)
    ]
    (project / "data" / "raw" / "wines.csv").write_text(
        "wine_id,alcohol,acidity,colour,quality\n" + "\n".join(rows) + "\n"
    )
    set_params(
        project,
        **{"data.source": "data/raw/wines.csv", "data.target": "quality", "data.drop_columns": ["wine_id"]},
    )

    run("make", "schema", cwd=project)
    # The sample's model tests name its columns: validate lists every one of them, before training.
    refused = run("make", "pipeline", cwd=project, check=False)
    set_params(project, model_tests={"regression_tolerance": 0.02})
    result = run("make", "pipeline", cwd=project)

    assert refused.returncode != 0
    for key in ("score_class 'yes'", "invariance[0].column 'region'", "slices.column 'contract'"):
        assert f"model_tests.{key}" in refused.stderr
    assert "minimum_functionality[1].row" in refused.stderr
    schema = yaml.safe_load((project / "schema.yaml").read_text())
    assert list(schema["columns"]) == ["wine_id", "alcohol", "acidity", "colour", "quality"]
    assert schema["columns"]["colour"]["allowed"] == ["red", "rose", "white"]
    assert "validate: all " in result.stdout
    described = json.loads((project / "models" / "model.json").read_text())
    assert set(described["features"]) == {"alcohol", "acidity", "colour"}
    assert described["classes"] == ["good", "plain"]
    assert 0.5 < metrics(project)["roc_auc"] <= 1


def test_a_target_the_schema_does_not_know_stops_at_validate(ready_project, tmp_path):
    project = copy_project(ready_project("regression"), tmp_path)
    set_params(project, **{"data.target": "sale_price"})

    result = run("make", "pipeline", cwd=project, check=False)

    assert result.returncode != 0
    assert "validate: error: schema.yaml has no rules for sale_price" in result.stderr
    assert "run `make schema`" in result.stderr
    assert ran_stages(result.stdout) == ["ingest", "validate"]


def test_the_stages_run_as_module_commands(project):
    stages = yaml.safe_load((project / "dvc.yaml").read_text())["stages"]

    assert {name: stage["cmd"] for name, stage in stages.items()} == {
        name: f"python -m {PACKAGE} {name}" for name in STAGES
    }
