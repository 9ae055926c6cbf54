"""Data and models pushed to the project's DVC remote come back in a fresh clone."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import yaml

from .conftest import copy_project, free_port, project_env, run

pytestmark = pytest.mark.slow

BUCKET = "dvc-storage"
EMPTY_BUCKET = "nobody-pushed-here"
S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def s3_client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=S3_CREDENTIALS["AWS_DEFAULT_REGION"],
    )


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A real S3 API on 127.0.0.1 (moto_server), with the project's bucket created."""
    port = free_port()
    moto = Path(sys.executable).parent / "moto_server"
    server = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("moto_server did not start within 30 s")
        for bucket in (BUCKET, EMPTY_BUCKET):
            s3_client(endpoint).create_bucket(Bucket=bucket)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


def model_md5(project: Path) -> str:
    return hashlib.md5((project / "models" / "model.skops").read_bytes(), usedforsecurity=False).hexdigest()


def locked_model_md5(project: Path) -> str:
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    return next(out["md5"] for out in lock["stages"]["train"]["outs"] if out["path"].endswith("model.skops"))


def publish_and_clone(project: Path, workdir: Path, env: dict[str, str]) -> Path:
    """Push data to the remote and git to a bare origin, then clone and pull as a teammate would."""
    run("git", "add", "--all", cwd=project, env=env)
    run("git", "commit", "--quiet", "-m", "Train the first model", cwd=project, env=env)
    run("make", "push", cwd=project, env=env)
    origin = workdir / "origin.git"
    run("git", "init", "--quiet", "--bare", "-b", "main", str(origin), cwd=workdir, env=env)
    run("git", "push", "--quiet", str(origin), "main", cwd=project, env=env)
    run("git", "clone", "--quiet", str(origin), "teammate", cwd=workdir, env=env)
    return workdir / "teammate"


def test_a_directory_remote_restores_the_model_in_a_fresh_clone(ready_project, tmp_path):
    project = copy_project(ready_project("classification"), tmp_path)
    env = project_env()

    clone = publish_and_clone(project, tmp_path, env)
    assert not (clone / "models" / "model.skops").exists()
    run("make", "setup", cwd=clone, env=env)
    run("make", "pull", cwd=clone, env=env)

    assert model_md5(clone) == locked_model_md5(clone) == model_md5(project)
    status = run("uv", "run", "dvc", "status", cwd=clone, env=env)
    assert "Data and pipelines are up to date." in status.stdout


def test_an_s3_remote_restores_the_model_in_a_fresh_clone(ready_project, tmp_path, s3_endpoint):
    project = copy_project(ready_project("regression"), tmp_path)
    env = project_env(**S3_CREDENTIALS)
    endpoint = ["uv", "run", "dvc", "remote", "modify", "--local", "storage", "endpointurl", s3_endpoint]
    run(*endpoint, cwd=project, env=env)

    clone = publish_and_clone(project, tmp_path, env)
    run("make", "setup", cwd=clone, env=env)
    run(*endpoint, cwd=clone, env=env)
    run("make", "pull", cwd=clone, env=env)

    assert model_md5(clone) == locked_model_md5(clone) == model_md5(project)
    stored = s3_client(s3_endpoint).list_objects_v2(Bucket=BUCKET, Prefix="regression/")
    assert stored["KeyCount"] > 0


def test_pushing_without_credentials_fails_clearly_and_uploads_nothing(ready_project, tmp_path, s3_endpoint):
    project = copy_project(ready_project("regression"), tmp_path)
    env = {key: value for key, value in project_env().items() if not key.startswith("AWS_")}
    no_file = str(tmp_path / "no-aws-config")
    env.update(AWS_SHARED_CREDENTIALS_FILE=no_file, AWS_CONFIG_FILE=no_file, AWS_EC2_METADATA_DISABLED="true")
    for setting in (["url", f"s3://{EMPTY_BUCKET}/regression"], ["endpointurl", s3_endpoint]):
        run("uv", "run", "dvc", "remote", "modify", "--local", "storage", *setting, cwd=project, env=env)

    result = run("make", "push", cwd=project, env=env, check=False)

    assert result.returncode != 0
    assert "credentials" in (result.stdout + result.stderr).lower()
    assert s3_client(s3_endpoint).list_objects_v2(Bucket=EMPTY_BUCKET)["KeyCount"] == 0
