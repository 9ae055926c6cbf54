import json
import subprocess

import pytest

from {{ cookiecutter.package_name }}.checks.model_tests import (
    behaviour_outcomes,
    functionality_outcomes,
    gate_outcomes,
    regression_outcomes,
    run_model_tests,
    sanity_outcomes,
    slice_outcomes,
    slice_table,
    summary,
)
from {{ cookiecutter.package_name }}.data.split import split
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.model.provenance import computed_for
from {{ cookiecutter.package_name }}.model.store import load_model, save_model
from {{ cookiecutter.package_name }}.model.train import train
from {{ cookiecutter.package_name }}.tables import features_and_target


@pytest.fixture
def trained(frame, params):
    """A model saved where params says, with its test set and metrics on disk."""
    train_frame, test_frame = split(frame, params)
    model = train(*features_and_target(train_frame, params.data), params)
    params.paths.model.parent.mkdir(parents=True)
    save_model(model, params.paths.model)
    params.paths.test.parent.mkdir(parents=True)
    test_frame.to_csv(params.paths.test, index=False)
    return load_model(params.paths.model), *features_and_target(test_frame, params.data)


def git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_the_default_model_passes_sanity_behaviour_functionality_and_slices(trained, params):
    model, features, target = trained

    outcomes = [
        *sanity_outcomes(model, features, params),
        *behaviour_outcomes(model, features, params),
        *functionality_outcomes(model, features, params),
        *slice_outcomes(slice_table(model, features, target, params), params),
    ]

    assert [o for o in outcomes if o.status != "passed"] == []
    assert len(outcomes) >= 6


def test_a_gate_failure_gives_the_value_and_the_bound():
    outcomes = gate_outcomes({"roc_auc": 0.61, "log_loss": 0.9}, {"roc_auc": 0.7, "log_loss": 0.6})

    assert [(o.status, o.detail) for o in outcomes] == [
        ("failed", "0.61 < 0.7 (minimum in params.yaml)"),
        ("failed", "0.9 > 0.6 (maximum in params.yaml)"),
    ]


def test_without_a_base_branch_the_comparison_is_skipped_with_the_reason(params, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_BASE_REF", raising=False)
    git(tmp_path, "init", "-q", "-b", "main")

    outcomes = regression_outcomes(dict.fromkeys(params.model_tests.gates, 0.9), params)

    assert {o.status for o in outcomes} == {"skipped"}
    assert "no" in outcomes[0].detail
    assert "committed on main (first commit?)" in outcomes[0].detail


def test_a_metric_below_the_base_branch_fails_with_both_numbers(params, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_BASE_REF", "release")
    metric = next(iter(params.model_tests.gates))
    metrics_file = params.paths.metrics.relative_to(tmp_path)
    metrics_file.parent.mkdir(parents=True)
    metrics_file.write_text(json.dumps({metric: 0.8}))
    git(tmp_path, "init", "-q", "-b", "release")
    git(tmp_path, "add", ".")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base")

    worse, level = regression_outcomes({metric: 0.7}, params), regression_outcomes({metric: 0.79}, params)

    assert (worse[0].status, worse[0].detail) == ("failed", "0.7 here, 0.8 on release (tolerance 2%)")
    assert level[0].status == "passed"


def write_metrics(params, scores, provenance):
    params.paths.metrics.parent.mkdir(parents=True, exist_ok=True)
    params.paths.metrics.write_text(json.dumps(scores))
    params.paths.metrics_provenance.write_text(json.dumps({"computed_for": provenance}))


@pytest.mark.usefixtures("trained")
def test_the_report_lists_failures_first_and_latency_is_measured(params):
    write_metrics(params, {"roc_auc": 0.1, "r2": 0.1}, computed_for(params.paths.model, params.paths.test))

    outcomes, _, latency = run_model_tests(params)
    text = summary(outcomes)

    assert text.startswith("❌ ")
    assert text.splitlines()[4].startswith("| ❌ | gate |")
    assert set(latency) == {"per_row", "per_batch_of_1000"}
    assert "latency" not in text  # it changes every run, so it stays out of git-tracked reports


@pytest.mark.usefixtures("trained")
@pytest.mark.parametrize("stale", ["model", "data"])
def test_metrics_computed_for_another_model_or_data_are_refused(params, stale):
    provenance = computed_for(params.paths.model, params.paths.test)
    provenance[stale]["md5"] = "0" * 32
    write_metrics(params, {"roc_auc": 0.9, "r2": 0.9}, provenance)

    with pytest.raises(PipelineError, match=f"was computed for another {stale} .*run `make pipeline`"):
        run_model_tests(params)


@pytest.mark.usefixtures("trained")
def test_metrics_that_do_not_say_what_they_were_computed_for_are_refused(params):
    params.paths.metrics.parent.mkdir(parents=True, exist_ok=True)
    params.paths.metrics.write_text(json.dumps({"roc_auc": 0.9, "r2": 0.9}))

    with pytest.raises(PipelineError, match="records md5 none"):
        run_model_tests(params)
