"""main.yml's verify job signs in to an S3 remote and pushes, under `act`, to moto_server.

The configure-aws-credentials stand-in exports the keys the secrets give, as the real action
does; the DVC remote's `endpointurl` points at moto_server on 127.0.0.1. Without the secret
the push is skipped with a notice; with it, `make push` reaches the bucket.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from .act_harness import run_act
from .conftest import SLUG, copy_project, project_env, run
from .github_stand_in import github_url_rewrite
from .test_remotes import S3_CREDENTIALS, s3_client, s3_endpoint  # noqa: F401 (the fixture)

pytestmark = pytest.mark.slow

REPOSITORY = f"your-github-user/{SLUG}"
CI_BUCKET = "ci-pushes"


def run_verify(checkout: Path, home: Path, env: dict[str, str], name: str, *secrets: str) -> str:
    workflow = checkout / ".github" / "workflows" / "main.yml"
    event = {"ref": "refs/heads/main", "repository": {"full_name": REPOSITORY}}
    secret_args = [argument for secret in secrets for argument in ("-s", secret)]
    return run_act(home, name, checkout, workflow, "push", event, env, "-j", "verify", *secret_args)


def test_the_verify_job_pushes_to_s3_with_the_secret_and_skips_without(
    ready_project,
    tmp_path,
    s3_endpoint,  # noqa: F811
):
    project = copy_project(ready_project("regression"), tmp_path)
    dvc = str(Path(sys.executable).parent / "dvc")
    s3_client(s3_endpoint).create_bucket(Bucket=CI_BUCKET)
    # Committed, since the job checks the repository out: the bucket on moto, and the trained
    # project's cache standing in for the DVC cache actions/cache would restore.
    run(dvc, "remote", "modify", "storage", "url", f"s3://{CI_BUCKET}/regression", cwd=project)
    run(dvc, "remote", "modify", "storage", "endpointurl", s3_endpoint, cwd=project)
    run(dvc, "config", "cache.dir", str(project / ".dvc" / "cache"), cwd=project)
    run("git", "add", "--all", cwd=project)
    run("git", "commit", "--quiet", "--no-verify", "-m", "Train the first model", cwd=project)
    origin = tmp_path / "origin.git"
    run("git", "clone", "--quiet", "--bare", str(project), str(origin), cwd=tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    gitconfig = github_url_rewrite(home / "gitconfig", REPOSITORY, origin)
    checkout = tmp_path / "checkout"
    run("git", "clone", "--quiet", str(origin), str(checkout), cwd=tmp_path)
    run("git", "remote", "set-url", "origin", f"https://github.com/{REPOSITORY}.git", cwd=checkout)
    no_file = str(home / "no-aws-config")  # only the sign-in step may give credentials
    env = {key: value for key, value in project_env().items() if not key.startswith("AWS_")}
    env.update(
        GIT_CONFIG_GLOBAL=str(gitconfig),
        AWS_SHARED_CREDENTIALS_FILE=no_file,
        AWS_CONFIG_FILE=no_file,
        AWS_EC2_METADATA_DISABLED="true",
    )
    bucket = s3_client(s3_endpoint)

    without = run_verify(checkout, home, env, "without-secret")

    assert "No credentials for the DVC remote" in without
    assert bucket.list_objects_v2(Bucket=CI_BUCKET)["KeyCount"] == 0

    keys = [f"{name}={S3_CREDENTIALS[name]}" for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")]
    with_secret = run_verify(checkout, home, env, "with-secret", *keys)

    assert "configure-aws-credentials stand-in: access keys exported" in with_secret
    stored = [item["Key"] for item in bucket.list_objects_v2(Bucket=CI_BUCKET)["Contents"]]
    assert any("/files/md5/" in key for key in stored), stored
    assert any("/runs/" in key for key in stored), stored  # the run cache too
