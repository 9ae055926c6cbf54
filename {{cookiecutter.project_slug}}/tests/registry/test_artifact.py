"""The model's path and hash are read from what a commit recorded, not from the working tree."""

from __future__ import annotations

import pytest

from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.registry.artifact import artifact_path, recorded_md5
from {{ cookiecutter.package_name }}.repo.dvc import default_remote, dvc_reason
from {{ cookiecutter.package_name }}.tables import file_md5

from ..conftest import commit

DVC_YAML = "artifacts:\n  model:\n    path: models/model.skops\n    type: model\n"
DVC_LOCK = """\
schema: '2.0'
stages:
  train:
    cmd: python -m package train
    outs:
    - path: models/model.skops
      hash: md5
      md5: {md5}
      size: 3
"""


def test_each_commit_keeps_the_hash_it_recorded(repository):
    first = commit(repository, {"dvc.yaml": DVC_YAML, "dvc.lock": DVC_LOCK.format(md5="a" * 32)})
    second = commit(repository, {"dvc.lock": DVC_LOCK.format(md5="b" * 32)})

    assert artifact_path(second) == "models/model.skops"
    assert recorded_md5(first, "models/model.skops") == "a" * 32
    assert recorded_md5(second, "models/model.skops") == "b" * 32
    assert recorded_md5(second, "models/other.skops") is None


def test_a_commit_without_the_artifact_is_refused(repository):
    bare = commit(repository, {"dvc.yaml": "stages: {}\n"})

    with pytest.raises(PipelineError, match=f"dvc.yaml at {bare[:7]} declares no artifact 'model'"):
        artifact_path(bare)


def test_the_file_hash_is_the_md5_dvc_records(tmp_path):
    (tmp_path / "model.skops").write_bytes(b"abc")

    assert file_md5(tmp_path / "model.skops") == "900150983cd24fb0d6963f7d28e17f72"


def test_the_default_dvc_remote_is_read_from_the_core_section():
    config = "[core]\n    remote = storage\n    autostage = true\n['remote \"storage\"']\n    url = /srv\n"

    assert default_remote(config) == "storage"
    assert default_remote("[core]\n    autostage = true\n") is None
    assert default_remote(None) is None


def test_dvc_errors_lose_the_support_footer():
    stderr = (
        "ERROR: unexpected error - [Errno 2] No storage files available: 'models/model.skops'\n\n"
        "Having any troubles? Hit us up at https://dvc.org/support, we are always happy to help!\n"
    )

    assert dvc_reason(stderr).endswith("No storage files available: 'models/model.skops'")
    assert dvc_reason("") == "no output"
