import json
import subprocess
import sys
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.repo.dvc_setup import configure, main

DVC = [sys.executable, "-m", "dvc"]


def dvc(repo: Path, *arguments: str) -> None:
    subprocess.run([*DVC, *arguments], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path):
    """An empty git repository, without DVC yet."""
    path = tmp_path / "repo"
    path.mkdir()
    subprocess.run(["git", "init", "--quiet", "-b", "main"], cwd=path, check=True)
    return path


def test_setup_follows_the_answers_and_a_second_run_changes_nothing(repo, monkeypatch, capsys):
    answers = {"dvc_remote": "local", "dvc_remote_url": "../storage"}
    (repo / ".cookiecutter.json").write_text(json.dumps(answers))
    monkeypatch.chdir(repo)

    assert main() == 0
    config = (repo / ".dvc" / "config").read_text()
    again = configure(repo, answers, DVC)

    assert again == []
    assert (repo / ".dvc" / "config").read_text() == config
    assert "autostage = true" in config
    assert "analytics = false" in config
    assert "remote = storage" in config
    assert "url = ../../storage" in config
    assert "added the default remote 'storage'" in capsys.readouterr().out


def test_a_storage_remote_the_user_changed_is_left_alone(repo):
    dvc(repo, "init", "--quiet")
    dvc(repo, "remote", "add", "storage", "s3://their-bucket/data")

    done = configure(repo, {"dvc_remote": "s3", "dvc_remote_url": "s3://our-bucket/data"}, DVC)

    config = (repo / ".dvc" / "config").read_text()
    assert done[-1] == (
        "left the remote 'storage' as it is: it points to s3://their-bucket/data, not s3://our-bucket/data"
    )
    assert "s3://our-bucket" not in config
    assert "remote = storage" not in config


def test_a_default_remote_of_the_users_is_left_alone(repo):
    dvc(repo, "init", "--quiet")
    dvc(repo, "remote", "add", "--default", "theirs", "gs://their-bucket/data")

    done = configure(repo, {"dvc_remote": "gcs", "dvc_remote_url": "gs://our-bucket/data"}, DVC)

    config = (repo / ".dvc" / "config").read_text()
    assert done[-1].startswith("left the default remote 'theirs' as it is")
    assert "remote = theirs" in config
    assert "our-bucket" not in config
