"""Bad answers are refused with one clear line each, and no project directory is left behind."""

from __future__ import annotations

import subprocess
import sys

import pytest
from cookiecutter.exceptions import FailedHookException
from pre_gen_project import problems

from .conftest import TEMPLATE_DIR, bake

DEFAULTS = {
    "project_name": "Customer Churn",
    "project_slug": "customer-churn",
    "package_name": "customer_churn",
    "author_email": "you@example.com",
    "github_owner": "your-github-user",
    "python_version": "3.11",
    "task": "classification",
    "dvc_remote": "none",
    "dvc_remote_url": "",
    "license": "MIT",
    "publish_plots": "no",
    "model_stages": "dev, staging, prod",
    "training_runner": "github",
}

REFUSED = {
    "slug with spaces": ({"project_slug": "my project"}, "project_slug 'my project' must be lowercase"),
    "slug shadowing pandas": ({"project_slug": "pandas"}, "project_slug 'pandas' would clash with 'pandas'"),
    "package starting with a digit": (
        {"package_name": "2fast"},
        "package_name '2fast' is not a valid Python identifier",
    ),
    "package with a hyphen": ({"package_name": "my-model"}, "package_name 'my-model' is not a valid Python"),
    "package is a keyword": ({"package_name": "class"}, "package_name 'class' is a Python keyword"),
    "package shadows the standard library": (
        {"package_name": "json"},
        "package_name 'json' would shadow the standard library module 'json'",
    ),
    "package shadows dvc": ({"package_name": "dvc"}, "package_name 'dvc' would shadow 'dvc'"),
    "package named test": ({"package_name": "test"}, "package_name 'test' would shadow"),
    "s3 remote without scheme": (
        {"dvc_remote": "s3", "dvc_remote_url": "my-bucket/data"},
        "dvc_remote_url 'my-bucket/data' is not a valid s3 URL: expected s3://BUCKET/PREFIX",
    ),
    "gcs remote with an s3 URL": (
        {"dvc_remote": "gcs", "dvc_remote_url": "s3://bucket/x"},
        "is not a valid gcs URL: expected gs://BUCKET/PREFIX",
    ),
    "azure container with capitals": (
        {"dvc_remote": "azure", "dvc_remote_url": "azure://My_Container"},
        "is not a valid azure URL",
    ),
    "local remote given a URL": (
        {"dvc_remote": "local", "dvc_remote_url": "s3://bucket"},
        "must be a directory path for a local remote",
    ),
    "local remote left empty": ({"dvc_remote": "local", "dvc_remote_url": ""}, "must be a directory path"),
    "bad email": ({"author_email": "nobody"}, "author_email 'nobody' is not an email address"),
    "stage with a capital": (
        {"model_stages": "dev, Prod"},
        "model_stages 'dev, Prod': 'Prod' is not a valid stage name",
    ),
    "stage with a tag separator": ({"model_stages": "dev, prod#1"}, "'prod#1' is not a valid stage name"),
    "empty stage between commas": ({"model_stages": "dev,,prod"}, "'' is not a valid stage name"),
    "stage given twice": ({"model_stages": "dev, prod, dev"}, "names dev more than once"),
    "bad github owner": ({"github_owner": "-owner-"}, "github_owner '-owner-' is not a valid GitHub"),
}


@pytest.mark.parametrize(("changes", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_each_bad_answer_is_refused_with_its_reason(changes, message):
    found = problems({**DEFAULTS, **changes})

    assert len(found) == 1
    assert message in found[0]


def test_the_default_answers_and_every_remote_kind_are_accepted():
    examples = {
        "local": "../storage",
        "s3": "s3://my-bucket/x",
        "gcs": "gs://my-bucket/x",
        "azure": "azure://box/x",
    }

    for kind, url in {"none": "", **examples}.items():
        assert problems({**DEFAULTS, "dvc_remote": kind, "dvc_remote_url": url}) == []


def test_an_unsupported_python_version_is_refused_even_from_a_replayed_answer_file():
    assert problems({**DEFAULTS, "python_version": "3.9"}) == [
        "python_version '3.9' is not supported: choose one of 3.10, 3.11, 3.12, 3.13"
    ]


def test_an_unknown_training_runner_is_refused_with_the_choices():
    assert problems({**DEFAULTS, "training_runner": "cml-oracle"}) == [
        "training_runner 'cml-oracle' is not supported: choose one of "
        "github, cml-aws, cml-gcp, cml-azure, self-hosted"
    ]


@pytest.mark.parametrize(("changes", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_a_refused_bake_writes_nothing(changes, message, tmp_path, capfd):
    with pytest.raises(FailedHookException):
        bake(tmp_path, **changes)

    errors = [line for line in capfd.readouterr().err.splitlines() if line.startswith("error: ")]
    assert any(message in line for line in errors), errors
    assert list(tmp_path.iterdir()) == []


def test_cookiecutters_own_check_refuses_a_python_version_outside_the_choices(tmp_path):
    with pytest.raises(ValueError, match=r"3\.9 provided for choice variable python_version"):
        bake(tmp_path, python_version="3.9")

    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("package_name=import", "error: package_name 'import' is a Python keyword"),
        ("project_name=", "error: project_name must not be empty"),
        ("project_name=   ", "error: project_name must not be empty"),
    ],
    ids=["keyword package", "empty name", "blank name"],
)
def test_the_command_line_shows_the_reason_without_a_traceback_and_fails(tmp_path, answer, message):
    """An empty name used to stop at cookiecutter's own `"." directory already exists`, and every
    refusal was followed by cookiecutter's traceback of its hook runner."""
    result = subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(tmp_path), str(TEMPLATE_DIR), answer],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode != 0
    assert message in result.stderr.splitlines()
    assert "Traceback" not in result.stdout + result.stderr
    assert len(result.stdout.splitlines()) <= 2  # "Stopping generation ...", "Hook script failed ..."
    assert list(tmp_path.iterdir()) == []
