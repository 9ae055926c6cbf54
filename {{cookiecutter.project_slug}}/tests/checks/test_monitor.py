import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from {{ cookiecutter.package_name }}.checks.batches import make_batches
from {{ cookiecutter.package_name }}.checks.monitor import DRIFT_STATUS, drifting_since, full_report, read_batch
from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.model.store import save_model
from {{ cookiecutter.package_name }}.model.train import train
from {{ cookiecutter.package_name }}.tables import features_and_target

from ..conftest import make_params, synthetic_frame


def deploy(root: Path, params, training: pd.DataFrame, held_out: pd.DataFrame) -> None:
    """Write params.yaml, the training and test split, the model trained on the first, and sample batches."""
    params.paths.train.parent.mkdir(parents=True)
    training.to_csv(params.paths.train, index=False)
    held_out.to_csv(params.paths.test, index=False)
    params.paths.model.parent.mkdir(parents=True)
    save_model(train(*features_and_target(training, params.data), params), params.paths.model)
    params.paths.batches.mkdir()
    for name, batch in make_batches(held_out, params).items():
        batch.to_csv(params.paths.batches / name, index=False)
    (root / "params.yaml").write_text(yaml.safe_dump(params.model_dump(mode="json")))


@pytest.fixture
def deployed(tmp_path, monkeypatch):
    """A project directory with params.yaml, training data, a model, and sample batches from held-out rows."""
    params = make_params("classification", tmp_path)
    deploy(
        tmp_path,
        params,
        synthetic_frame("classification", rows=2000, seed=0),
        synthetic_frame("classification", rows=1000, seed=1),
    )
    monkeypatch.chdir(tmp_path)
    return params


def test_a_shifted_batch_exits_with_the_drift_status_and_writes_the_issue_body(deployed, capsys):
    status = main(
        ["monitor", str(deployed.paths.batches / "shifted.csv"), "--report-url", "https://ci/run/7"]
    )

    assert status == DRIFT_STATUS == 3
    assert capsys.readouterr().out.startswith("monitor: ⚠️ drift in 2 of 3 columns (`size`, `colour`)")
    report = json.loads((deployed.paths.monitor / "drift.json").read_text())
    assert report["drifted_columns"] == ["size", "colour"]
    issue = (deployed.paths.monitor / "issue.md").read_text()
    assert issue.startswith("## Production data drift\n\n⚠️ drift in 2 of 3 columns (`size`, `colour`)")
    assert "- Full report: [drift.html](https://ci/run/7)" in issue
    assert "| `size` | numerical | wasserstein |" in issue
    assert "`count`" not in issue  # only what drifted
    since = issue.split("- Drifting since: ")[1].splitlines()[0]
    assert f"<!-- drift-since: {since} -->" in issue


def test_a_stable_batch_exits_0(deployed, capsys):
    status = main(["monitor", str(deployed.paths.batches / "stable.csv")])

    assert status == 0
    assert capsys.readouterr().out == "monitor: ✅ no drift: 0 of 3 columns drifted\n"
    assert json.loads((deployed.paths.monitor / "drift.json").read_text())["drift_detected"] is False
    assert (deployed.paths.monitor / "issue.md").read_text().startswith("## Production data: no drift")


def unexplained(rows: int, seed: int) -> pd.DataFrame:
    """Regression rows whose target the inputs do not explain: a forest learns its training rows'
    noise, so its predictions on them are spread far wider than on any new row."""
    frame = synthetic_frame("regression", rows=rows, seed=seed)
    return frame.assign(target=np.random.default_rng([seed, 1]).normal(0, 10, rows))


def test_a_stable_batch_is_compared_with_the_predictions_on_rows_the_model_never_saw(tmp_path, monkeypatch):
    params = make_params("regression", tmp_path, model={"estimator": "random_forest", "hyperparameters": {}})
    deploy(tmp_path, params, unexplained(3000, seed=0), unexplained(1500, seed=1))
    unexplained(1500, seed=2).drop(columns=["target"]).to_csv(tmp_path / "new.csv", index=False)
    monkeypatch.chdir(tmp_path)

    assert main(["monitor", str(tmp_path / "new.csv")]) == 0

    report = json.loads((params.paths.monitor / "drift.json").read_text())
    assert report["rows"]["reference_predicted"] == 1500  # the test split's rows, not the training rows
    assert main(["monitor", str(params.paths.batches / "shifted.csv")]) == DRIFT_STATUS


def test_drift_keeps_the_date_it_was_first_seen(deployed, tmp_path):
    previous = tmp_path / "open-issue.md"
    previous.write_text("## Production data drift\n...\n<!-- drift-since: 2026-01-02T03:04:05Z -->\n")

    main(["monitor", str(deployed.paths.batches / "shifted.csv"), "--previous-issue", str(previous)])

    issue = (deployed.paths.monitor / "issue.md").read_text()
    assert "- Drifting since: 2026-01-02T03:04:05Z" in issue


def test_the_full_report_is_the_workflow_runs_artifact_on_github_and_the_file_elsewhere(monkeypatch):
    html = Path("reports/monitor/drift.html")
    for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"):
        monkeypatch.delenv(name, raising=False)
    assert full_report(html, None) == "`reports/monitor/drift.html` on the machine that ran the monitor"

    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.example")
    monkeypatch.setenv("GITHUB_REPOSITORY", "team/churn")
    monkeypatch.setenv("GITHUB_RUN_ID", "4242")
    linked = full_report(html, None)

    assert linked == (
        "`drift.html` in the artifacts of "
        "[the workflow run that checked this batch](https://github.example/team/churn/actions/runs/4242)"
    )
    assert full_report(html, "https://reports.example/drift.html") == (
        "[drift.html](https://reports.example/drift.html)"
    )


def test_the_date_drift_was_first_seen_is_now_without_a_previous_issue(tmp_path):
    assert drifting_since(None, "2026-11-23T10:00:00Z") == "2026-11-23T10:00:00Z"
    assert drifting_since(tmp_path / "absent.md", "2026-11-23T10:00:00Z") == "2026-11-23T10:00:00Z"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such batch file: "),
        (b"", "is empty"),
        (b"size,count,colour\n", "has a header but no rows"),
        (b"\xff\xfe\x00\x81binary\x00\x00", "could not be read as CSV"),
    ],
    ids=["missing", "empty", "header-only", "binary"],
)
def test_a_missing_or_unreadable_batch_is_a_clear_error_and_writes_nothing(
    deployed, capsys, content, message
):
    batch = deployed.paths.batches / "bad.csv"
    if content is not None:
        batch.write_bytes(content)

    status = main(["monitor", str(batch)])

    assert status == 1
    error = capsys.readouterr().err
    assert error.startswith("monitor: error: ")
    assert message in error
    assert not deployed.paths.monitor.exists()


def test_a_batch_without_a_model_input_is_a_clear_error(deployed, capsys):
    batch = deployed.paths.batches / "partial.csv"
    read_batch(str(deployed.paths.batches / "stable.csv")).drop(columns=["count"]).to_csv(batch, index=False)

    status = main(["monitor", str(batch)])

    assert status == 1
    assert f"monitor: error: the {batch} lacks columns the model needs: count" in capsys.readouterr().err
    assert not deployed.paths.monitor.exists()
