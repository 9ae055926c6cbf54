"""With no DVC remote (the default answer), GitHub alone carries a model from PR to deploy.

What GitHub does, from fresh clones, under `act` with stand-ins only for the remote actions
(tests/stand_ins/) and GitHub's REST API (tests/github_stand_in.py, on 127.0.0.1): the PR
run trains and uploads the model as an artifact named by its md5; the PR is merged in the bare
origin; main.yml on a fresh clone of main registers the version and attaches the md5-checked
model to the registration tag's release; a stage tag pushed to origin runs deploy.yml, which
downloads the model from that release, checks it against dvc.lock and publishes the bundle.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .act_harness import PR_NUMBER, REPOSITORY, TOKEN, Flow, git, lock_md5, open_flow
from .conftest import copy_project, run

pytestmark = pytest.mark.slow

VERSION = "v0.0.1"  # the merged pull request is labelled model:patch
VERSION_TAG = f"model@{VERSION}"
STAGE_TAG = "model#prod#2"  # after model#staging#1: prod takes only what staging held


@pytest.fixture(scope="module")
def flow(tmp_path_factory, trained_default_project) -> Iterator[Flow]:
    """A default project (no DVC remote) trained on main, a bare origin, a PR branch `tune`."""
    root = tmp_path_factory.mktemp("github-flow")
    project = copy_project(trained_default_project, root / "bake")
    assert "remote" not in (project / ".dvc" / "config").read_text()
    with open_flow(
        root,
        project,
        MODEL_PUBLISHER="scripts/publish_directory.sh",
        MODEL_PUBLISH_DIR=str(root / "published"),
    ) as opened:
        yield opened


@pytest.fixture(scope="module")
def pr_run(flow) -> str:
    """pr.yml, both jobs, for the head of `tune`; returns the bot commit that carries the new dvc.lock."""
    flow.pull_request("tune", PR_NUMBER, "pr")
    return git("rev-parse", "tune", cwd=flow.origin)


@pytest.fixture(scope="module")
def main_run(flow, pr_run) -> str:
    """The PR merged into main in origin, as a person would; main.yml on a fresh clone of main."""
    merge = flow.merge("tune", PR_NUMBER)
    flow.api.labels[PR_NUMBER] = ["model:patch"]
    flow.push_to_main(merge, "main")
    return merge


@pytest.fixture(scope="module")
def deploy_run(flow, main_run) -> Path:
    """Staging then prod, tags made with gto and pushed to origin; deploy.yml on a fresh clone at prod's."""
    tagger = flow.clone("tagger")
    for stage in ("staging", "prod"):
        run("gto", "assign", "model", "--version", VERSION, "--stage", stage, cwd=tagger, env=flow.env)
    git(
        "push",
        "--quiet",
        "origin",
        "refs/tags/model#staging#1",
        f"refs/tags/{STAGE_TAG}",
        cwd=tagger,
        env=flow.env,
    )
    checkout = flow.clone("deploy-checkout", ref=STAGE_TAG)
    workflow = checkout / ".github" / "workflows" / "deploy.yml"
    flow.act(checkout, workflow, "push", {"ref": f"refs/tags/{STAGE_TAG}"}, "deploy")
    return flow.root / "published" / VERSION_TAG


def test_the_pr_run_uploads_the_model_as_an_artifact_named_by_its_md5(flow, pr_run):
    lock = git("show", f"{pr_run}:dvc.lock", cwd=flow.origin)
    model_md5 = lock_md5(lock, "models/model.skops")
    artifact = flow.api.artifacts_dir / f"model-{model_md5}"

    assert hashlib.md5((artifact / "model.skops").read_bytes()).hexdigest() == model_md5
    metadata_md5 = hashlib.md5((artifact / "model.json").read_bytes()).hexdigest()
    assert metadata_md5 == lock_md5(lock, "models/model.json")
    assert len(flow.api.comments) == 1


def test_main_registers_the_merge_and_its_release_holds_the_model_of_dvc_lock(flow, main_run):
    assert git("rev-parse", f"{VERSION_TAG}^{{commit}}", cwd=flow.origin) == main_run
    assert "verify-lock: dvc.lock matches" in flow.logs["main"]
    lock = git("show", f"{main_run}:dvc.lock", cwd=flow.origin)
    release = flow.api.releases[VERSION_TAG]
    for path in ("models/model.skops", "models/model.json"):
        asset = flow.api.asset_named(VERSION_TAG, Path(path).name)
        assert hashlib.md5(flow.api.assets[asset["id"]]).hexdigest() == lock_md5(lock, path)
    assert release["tag_name"] == VERSION_TAG
    # The merged PR's label was read through the API, and no token followed a redirect to storage.
    assert any(path == f"/repos/{REPOSITORY}/commits/{main_run}/pulls" for _, path, _ in flow.api.requests)
    assert all(auth == "" for _, path, auth in flow.api.requests if path.startswith("/storage/"))


def test_deploy_fetches_the_model_from_the_release_and_publishes_it_verified(flow, main_run, deploy_run):
    archives = list(deploy_run.glob("*.tar.gz"))
    assert len(archives) == 1, flow.logs["deploy"][-4000:]
    lock = git("show", f"{main_run}:dvc.lock", cwd=flow.origin)
    with tarfile.open(archives[0]) as bundle:
        model = bundle.extractfile(f"model-{VERSION}-prod/model.skops").read()
        metadata = json.loads(bundle.extractfile(f"model-{VERSION}-prod/metadata.json").read())
    assert hashlib.md5(model).hexdigest() == lock_md5(lock, "models/model.skops") == metadata["model"]["md5"]
    asset = flow.api.asset_named(VERSION_TAG, "model.skops")
    downloads = [path for _, path, _ in flow.api.requests if path.endswith(f"/releases/assets/{asset['id']}")]
    assert downloads


def test_deploy_builds_the_serving_image_of_the_bundle_and_pushes_its_version_and_stage(flow, deploy_run):
    image = f"ghcr.io/{REPOSITORY}"
    calls = (flow.root / "docker-calls").read_text().splitlines()

    assert len(calls) == 5, flow.logs["deploy"][-4000:]
    build, login, password, *pushes = calls
    assert build == (
        f"docker build --build-arg BUNDLE=build/deploy/model-{VERSION}-prod "
        f"--tag {image}:{VERSION} --tag {image}:prod ."
    )
    assert login.startswith("docker login ghcr.io --username ") and login.endswith(" --password-stdin")
    assert password == f"stdin {TOKEN}"  # the workflow's token, on stdin, never on the command line
    assert pushes == [f"docker push {image}:{VERSION}", f"docker push {image}:prod"]


def test_a_tampered_release_asset_is_refused_and_nothing_is_published(flow, main_run, deploy_run):
    asset = flow.api.asset_named(VERSION_TAG, "model.skops")
    original = flow.api.assets[asset["id"]]
    flow.api.assets[asset["id"]] = original + b"tampered"
    published = flow.root / "published-tampered"
    deployer = flow.clone("deployer", ref=STAGE_TAG)
    env = {
        **flow.env,
        "GITHUB_API_URL": flow.api_url,
        "GITHUB_REPOSITORY": REPOSITORY,
        "GH_TOKEN": TOKEN,
        "MODEL_PUBLISH_DIR": str(published),
    }
    try:
        run("make", "setup", cwd=deployer, env=env)
        result = run("make", "deploy", f"TAG={STAGE_TAG}", cwd=deployer, env=env, check=False)
    finally:
        flow.api.assets[asset["id"]] = original

    assert result.returncode != 0
    assert f"deploy: error: models/model.skops from the GitHub release {VERSION_TAG} has md5" in result.stderr
    assert "refusing to deploy it" in result.stderr
    assert "Having any troubles?" not in result.stderr
    assert not published.exists()
    assert not (deployer / "build" / "deploy" / f"model-{VERSION}-prod").exists()


@pytest.fixture(scope="module")
def readme_only_run(flow, deploy_run) -> tuple[str, str]:
    """A second pull request on top, changing only the README: its run, merge and main.yml."""
    number = PR_NUMBER + 1
    author = flow.clone("readme-author")
    git("checkout", "--quiet", "-b", "docs", "origin/main", cwd=author)
    readme = author / "README.md"
    readme.write_text(readme.read_text() + "\nA line about the project.\n")
    git("commit", "--quiet", "--no-verify", "-am", "Say more in the README", cwd=author)
    git("push", "--quiet", "origin", "docs", cwd=author, env=flow.env)
    head = git("rev-parse", "HEAD", cwd=author)
    # The checks job ran on this code in the first run; this run is about the pipeline job.
    flow.pull_request("docs", number, "readme-pr", checks_job=False)
    merge = flow.merge("docs", number)
    flow.push_to_main(merge, "readme-main")
    return head, merge


def test_the_first_pr_comment_compares_the_data_with_main(flow, pr_run):
    body = flow.api.comments[0]["body"]

    assert "## Drift" in body
    assert "no drift: the data is identical to origin/main at" in body


def test_a_readme_only_pr_commits_nothing_and_its_merge_registers_nothing(flow, main_run, readme_only_run):
    head, merge = readme_only_run

    # Retrained on a runner with no cache, the model has the same bytes: dvc.lock is unchanged.
    assert "ci-commit: dvc.lock and results unchanged: nothing to commit" in flow.logs["readme-pr"]
    assert git("rev-parse", "docs", cwd=flow.origin) == head
    assert "verify-lock: dvc.lock matches" in flow.logs["readme-main"]
    tags = git("tag", "--list", "model@*", cwd=flow.origin).split()
    assert tags == [VERSION_TAG]
    assert git("rev-parse", f"{VERSION_TAG}^{{commit}}", cwd=flow.origin) == main_run != merge
