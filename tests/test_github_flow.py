"""With no DVC remote (the default answer), GitHub alone carries a model from PR to deploy.

What GitHub does, from fresh clones, under `act` with stand-ins only for the remote actions
(tests/stand_ins/) and GitHub's REST API (tests/github_stand_in.py, on 127.0.0.1): the PR
run trains and uploads the model as an artifact named by its md5; the PR is merged in the bare
origin; main.yml on a fresh clone of main registers the version and attaches the md5-checked
model to the registration tag's release. Then the Promote workflow (by hand, as from the
Actions tab) assigns the version to a stage and calls deploy.yml (`workflow_call`); a stage tag
pushed to origin runs deploy.yml on its own. deploy.yml downloads the model from the release,
checks it against dvc.lock and hands the bundle to the default publisher, which uploads it to
the release with `gh` (a stand-in making the CLI's REST calls, tests/stand_ins/gh). Both refuse
what the promotion policy forbids. What actions/cache keeps between runs is kept too (the cache
stand-in), scoped as on GitHub: a pull request restores main's caches, never another PR's.
"""

from __future__ import annotations

import hashlib
import io
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
REFUSED_TAG = "model#prod#1"  # pushed by hand before the version was in staging
STAGING_TAG = "model#staging#2"  # by the Promote workflow
STAGE_TAG = "model#prod#3"  # by hand again, after staging: prod takes only what staging held


@pytest.fixture(scope="module")
def flow(tmp_path_factory, trained_default_project) -> Iterator[Flow]:
    """A default project (no DVC remote) trained on main, a bare origin, a PR branch `tune`."""
    root = tmp_path_factory.mktemp("github-flow")
    project = copy_project(trained_default_project, root / "bake")
    assert "remote" not in (project / ".dvc" / "config").read_text()
    with open_flow(root, project) as opened:
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


def promote(flow: Flow, stage: str, name: str, *, succeeds: bool) -> str:
    """promote.yml dispatched by hand on main, for VERSION and `stage`; returns its log."""
    checkout = flow.clone(f"{name}-checkout")
    workflow = checkout / ".github" / "workflows" / "promote.yml"
    event = {"ref": "refs/heads/main", "inputs": {"version": VERSION, "stage": stage, "override": ""}}
    return flow.act(checkout, workflow, "workflow_dispatch", event, name, succeeds=succeeds)


def push_stage_tag(flow: Flow, stage: str, tag: str, name: str, *, succeeds: bool) -> str:
    """A person assigns VERSION to `stage` with gto (no policy) and pushes the tag; deploy.yml runs."""
    tagger = flow.clone(f"{name}-tagger")
    run("gto", "assign", "model", "--version", VERSION, "--stage", stage, "--force", cwd=tagger, env=flow.env)
    git("push", "--quiet", "origin", f"refs/tags/{tag}", cwd=tagger, env=flow.env)
    checkout = flow.clone(f"{name}-checkout", ref=tag)
    workflow = checkout / ".github" / "workflows" / "deploy.yml"
    return flow.act(checkout, workflow, "push", {"ref": f"refs/tags/{tag}"}, name, succeeds=succeeds)


def release_bundle(flow: Flow, stage: str) -> bytes:
    """The bundle the publisher uploaded to the version's release for `stage`."""
    asset = flow.api.asset_named(VERSION_TAG, f"model-{VERSION}-{stage}.tar.gz")
    return flow.api.assets[asset["id"]]


@pytest.fixture(scope="module")
def refused_runs(flow, main_run) -> tuple[str, str]:
    """Prod before staging, twice: by the Promote workflow, and by a hand-pushed tag deploy.yml reads."""
    promoted = promote(flow, "prod", "promote-prod", succeeds=False)
    deployed = push_stage_tag(flow, "prod", REFUSED_TAG, "deploy-refused", succeeds=False)
    return promoted, deployed


@pytest.fixture(scope="module")
def promote_run(flow, refused_runs) -> str:
    """The Promote workflow assigns the version to staging and calls deploy.yml with the new tag."""
    return promote(flow, "staging", "promote-staging", succeeds=True)


@pytest.fixture(scope="module")
def deploy_run(flow, promote_run) -> bytes:
    """Prod assigned by hand after staging and pushed; deploy.yml on a fresh clone at that tag."""
    push_stage_tag(flow, "prod", STAGE_TAG, "deploy", succeeds=True)
    return release_bundle(flow, "prod")


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


def test_promotion_and_deploy_refuse_prod_before_staging_and_change_nothing(flow, refused_runs):
    promoted, deployed = refused_runs
    refusal = f"{VERSION} has never been in staging: promote it to staging first"

    assert refusal in promoted
    assert "Failure - Main Promote" in promoted
    assert "Read the tag" not in promoted  # the deploy job it calls never started
    assert f"'{REFUSED_TAG}' breaks the promotion policy, refusing to deploy it" in deployed
    assert refusal in deployed
    assert "Failure - Main Fetch, verify, bundle and publish" in deployed
    # Only the hand-pushed tag: the Promote workflow pushed none, and nothing was published.
    assert git("tag", "--list", "model#*", cwd=flow.origin).split() == [REFUSED_TAG]
    assets = [asset["name"] for asset in flow.api.releases[VERSION_TAG]["assets"]]
    assert sorted(assets) == ["model.json", "model.skops"]


def test_the_promote_workflow_tags_the_stage_and_deploys_it_through_deploy_yml(flow, main_run, promote_run):
    assert f"registry: model tests passed for {VERSION}" in promote_run
    tagged = git("rev-parse", f"{STAGING_TAG}^{{commit}}", cwd=flow.origin)
    assert tagged == git("rev-parse", f"{VERSION_TAG}^{{commit}}", cwd=flow.origin) == main_run
    # The called workflow read the tag the promote job named, and deployed it.
    assert f"Deploy {VERSION} to staging" in promote_run
    lock = git("show", f"{main_run}:dvc.lock", cwd=flow.origin)
    with tarfile.open(fileobj=io.BytesIO(release_bundle(flow, "staging"))) as bundle:
        model = bundle.extractfile(f"model-{VERSION}-staging/model.skops").read()
    assert hashlib.md5(model).hexdigest() == lock_md5(lock, "models/model.skops")
    assert (flow.api.artifacts_dir / f"model-bundle-{VERSION}-staging").is_dir()


def test_deploy_fetches_the_model_from_the_release_and_publishes_it_verified(flow, main_run, deploy_run):
    lock = git("show", f"{main_run}:dvc.lock", cwd=flow.origin)
    with tarfile.open(fileobj=io.BytesIO(deploy_run)) as bundle:
        model = bundle.extractfile(f"model-{VERSION}-prod/model.skops").read()
        metadata = json.loads(bundle.extractfile(f"model-{VERSION}-prod/metadata.json").read())
    assert hashlib.md5(model).hexdigest() == lock_md5(lock, "models/model.skops") == metadata["model"]["md5"]
    asset = flow.api.asset_named(VERSION_TAG, "model.skops")
    downloads = [path for _, path, _ in flow.api.requests if path.endswith(f"/releases/assets/{asset['id']}")]
    assert downloads


def test_deploy_builds_the_serving_image_of_the_bundle_and_pushes_its_version_and_stage(flow, deploy_run):
    """Both deploys build: staging's (deploy.yml called by promote.yml), then prod's (a pushed tag)."""
    image = f"ghcr.io/{REPOSITORY}"
    calls = (flow.root / "docker-calls").read_text().splitlines()

    assert len(calls) == 10, flow.logs["deploy"][-4000:]
    for stage, sequence in zip(("staging", "prod"), (calls[:5], calls[5:]), strict=True):
        build, login, password, *pushes = sequence
        assert build == (
            f"docker build --build-arg BUNDLE=build/deploy/model-{VERSION}-{stage} "
            f"--tag {image}:{VERSION} --tag {image}:{stage} ."
        )
        assert login.startswith("docker login ghcr.io --username ") and login.endswith(" --password-stdin")
        assert password == f"stdin {TOKEN}"  # the workflow's token, on stdin, never on the command line
        assert pushes == [f"docker push {image}:{VERSION}", f"docker push {image}:{stage}"]


def test_a_tampered_release_asset_is_refused_and_nothing_is_published(flow, main_run, deploy_run):
    asset = flow.api.asset_named(VERSION_TAG, "model.skops")
    original = flow.api.assets[asset["id"]]
    flow.api.assets[asset["id"]] = original + b"tampered"
    assets_before = list(flow.api.assets)
    deployer = flow.clone("deployer", ref=STAGE_TAG)
    env = {**flow.env, "GITHUB_API_URL": flow.api_url, "GITHUB_REPOSITORY": REPOSITORY, "GH_TOKEN": TOKEN}
    try:
        run("make", "setup", cwd=deployer, env=env)
        result = run("make", "deploy", f"TAG={STAGE_TAG}", cwd=deployer, env=env, check=False)
    finally:
        flow.api.assets[asset["id"]] = original

    assert result.returncode != 0
    assert f"deploy: error: models/model.skops from the GitHub release {VERSION_TAG} has md5" in result.stderr
    assert "refusing to deploy it" in result.stderr
    assert "Having any troubles?" not in result.stderr
    assert list(flow.api.assets) == assets_before
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


def test_a_readme_only_pr_trains_nothing_commits_nothing_and_its_merge_registers_nothing(
    flow, main_run, readme_only_run
):
    head, merge = readme_only_run
    log = flow.logs["readme-pr"]

    # main's run kept its results in main's cache; the new PR's runner restored them from there
    # and DVC checked every stage's outputs out of its run cache instead of running it.
    assert "cache stand-in: saved dvc-cache-" in flow.logs["main"]
    assert "(saved for refs/heads/main)" in log
    for stage in ("ingest", "split", "train"):
        assert f"Stage '{stage}' is cached - skipping run, checking out outputs" in log
    assert "Running stage" not in log
    assert "ci-commit: dvc.lock and results unchanged: nothing to commit" in log
    assert git("rev-parse", "docs", cwd=flow.origin) == head
    assert "verify-lock: dvc.lock matches" in flow.logs["readme-main"]
    tags = git("tag", "--list", "model@*", cwd=flow.origin).split()
    assert tags == [VERSION_TAG]
    assert git("rev-parse", f"{VERSION_TAG}^{{commit}}", cwd=flow.origin) == main_run != merge


def test_a_pr_from_a_fork_is_trained_from_mains_cache_and_reported_in_the_run_only(flow, readme_only_run):
    """The README change again, proposed from a fork: a read-only token, so no comment, no commit."""
    number = PR_NUMBER + 2
    comments = len(flow.api.comments)

    head = flow.pull_request("docs", number, "fork-pr", checks_job=False, fork="a-contributor/customer-churn")
    log = flow.logs["fork-pr"]

    assert "Stage 'train' is cached - skipping run, checking out outputs" in log
    assert "Success - Main No comment on a fork's pull request" in log
    assert "Post the sticky comment" not in log and "Commit dvc.lock and metrics" not in log
    assert len(flow.api.comments) == comments
    assert git("rev-parse", "docs", cwd=flow.origin) == head
