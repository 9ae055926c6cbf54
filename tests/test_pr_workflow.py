"""The generated PR workflow really runs, with `act`, against a bare origin on disk.

Remote actions are replaced by the composite stand-ins in tests/stand_ins/, and CML's REST
calls go to a recording stand-in for GitHub's API on 127.0.0.1. Two runs: the first trains
the PR's param change, commits dvc.lock back to the branch and posts the comment; the second
(what the optional token's re-trigger does) finds everything cached and edits that comment.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from .conftest import SLUG, bake, project_env, run
from .github_stand_in import GitHubApi, github_url_rewrite, serve
from .test_pipeline import set_params

pytestmark = pytest.mark.slow

OWNER = "your-github-user"
REPOSITORY = f"{OWNER}/{SLUG}"
STAND_INS = Path(__file__).parent / "stand_ins"
TOKEN = "stand-in-token"
PR_NUMBER = 7
USES = re.compile(r"uses:\s*([\w.-]+/[\w.-]+)@([0-9a-f]{40})")


@pytest.fixture(scope="module")
def github_api() -> Iterator[tuple[GitHubApi, str]]:
    api = GitHubApi(REPOSITORY)
    with serve(api) as url:
        yield api, url


@dataclass
class Setup:
    origin: Path
    checkout: Path  # where act runs: a clone whose origin URL is the GitHub one
    home: Path
    env: dict[str, str]
    storage: Path  # the DVC remote


def git(*arguments: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    return run("git", *arguments, cwd=cwd, env=env).stdout.strip()


def local_repository_args(workflow: Path) -> list[str]:
    """`--local-repository` for every pinned action of the workflow, to its stand-in."""
    args = []
    for name, sha in sorted(set(USES.findall(workflow.read_text()))):
        stand_in = STAND_INS / name.split("/")[1]
        assert stand_in.is_dir(), f"no stand-in for {name}"
        args += ["--local-repository", f"{name}@{sha}={stand_in}"]
    return args


@pytest.fixture(scope="module")
def setup(tmp_path_factory, github_api) -> Setup:
    """main trained and pushed, and a PR branch `tune` that changes one param only."""
    root = tmp_path_factory.mktemp("act")
    storage = root / "dvc-storage"
    project = bake(root / "bake", dvc_remote="local", dvc_remote_url=str(storage))
    run("make", "setup", "pipeline", "push", cwd=project)
    git("add", "--all", cwd=project)
    git("commit", "--quiet", "--no-verify", "-m", "Train the first model", cwd=project)
    origin = root / "origin.git"
    run("git", "clone", "--quiet", "--bare", str(project), str(origin), cwd=root)
    git("checkout", "--quiet", "-b", "tune", cwd=project)
    set_params(project, **{"model.hyperparameters.n_estimators": 50})
    git("commit", "--quiet", "--no-verify", "-am", "Try fewer trees", cwd=project)
    git("push", "--quiet", str(origin), "tune", cwd=project)

    home = root / "home"
    home.mkdir()
    gitconfig = github_url_rewrite(home / "gitconfig", REPOSITORY, origin)
    checkout = root / "checkout"
    run("git", "clone", "--quiet", str(origin), str(checkout), cwd=root)
    git("remote", "set-url", "origin", f"https://github.com/{REPOSITORY}.git", cwd=checkout)
    _, api_url = github_api
    env = project_env(
        GIT_CONFIG_GLOBAL=str(gitconfig),
        STAND_IN_GITHUB_API=api_url,
        STAND_IN_ARTIFACTS=str(root / "artifacts"),
    )
    return Setup(origin, checkout, home, env, storage)


def run_pr_workflow(setup: Setup, api: GitHubApi, run_name: str) -> tuple[str, str]:
    """Run pr.yml for the current head of `tune` on origin; return (head it ran for, log)."""
    head = git("rev-parse", "tune", cwd=setup.origin)
    base = git("rev-parse", "main", cwd=setup.origin)
    git("fetch", "--quiet", "origin", cwd=setup.checkout, env=setup.env)
    git("checkout", "--quiet", "--detach", head, cwd=setup.checkout)
    api.pulls[head] = PR_NUMBER
    repo = {"full_name": REPOSITORY, "fork": False}
    event = setup.home / f"{run_name}.json"
    event.write_text(
        json.dumps(
            {
                "number": PR_NUMBER,
                "pull_request": {
                    "number": PR_NUMBER,
                    "head": {"ref": "tune", "sha": head, "repo": repo},
                    "base": {"ref": "main", "sha": base, "repo": repo},
                },
                "repository": repo,
            }
        )
    )
    workflow = setup.checkout / ".github" / "workflows" / "pr.yml"
    result = run(
        "act", "pull_request",
        "-W", str(workflow),
        "-e", str(event),
        "-P", "ubuntu-latest=-self-hosted",
        "--pull=false", "--no-skip-checkout", "--no-cache-server",
        "--action-cache-path", str(setup.home / f"act-{run_name}"),
        "-s", f"GITHUB_TOKEN={TOKEN}",
        *local_repository_args(workflow),
        cwd=setup.checkout, env=setup.env, check=False,
    )  # fmt: skip
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-6000:]
    return head, log


@pytest.fixture(scope="module")
def first_run(setup, github_api):
    api, _ = github_api
    head, log = run_pr_workflow(setup, api, "first")
    return head, log, [comment["body"] for comment in api.comments]


def test_the_pr_comment_shows_verdict_deltas_and_every_section(first_run):
    _, _, bodies = first_run

    assert len(bodies) == 1
    body = bodies[0]
    assert body.splitlines()[0].startswith("✅ **All gates passed**")
    row = r"\| roc_auc \| ([\d.]+) \| ([\d.]+) \| ([+-][\d.e-]+) \| (▲ better|▼ worse) \|"
    metrics = re.search(row, body)
    assert metrics, body
    old, new, change = (float(value) for value in metrics.groups()[:3])
    assert change == pytest.approx(new - old, abs=1e-3)
    assert "| `model.hyperparameters.n_estimators` | 200 | 50 |" in body
    for section in ("## Metrics", "## Params", "## Data validation", "## Model tests", "## Drift"):
        assert section in body
    assert "```mermaid" in body
    assert not re.search(r"!\[[^]]*\]\((?!https://)", body)  # no local image for CML to publish
    assert f"/{REPOSITORY}/actions/runs/" in body


def test_the_comment_is_posted_with_the_workflow_token(first_run, github_api):
    api, _ = github_api

    posts = [request for request in api.requests if request[0] == "POST"]
    assert posts == [("POST", f"/repos/{REPOSITORY}/issues/{PR_NUMBER}/comments", f"token {TOKEN}")]


def test_the_bot_commit_on_the_pr_branch_carries_the_new_dvc_lock(first_run, setup):
    head, _, bodies = first_run

    bot_commit = git("rev-parse", "tune", cwd=setup.origin)
    assert git("rev-parse", f"{bot_commit}^", cwd=setup.origin) == head
    assert git("log", "-1", "--format=%an", bot_commit, cwd=setup.origin) == "github-actions[bot]"
    changed = git("diff", "--name-only", head, bot_commit, cwd=setup.origin).splitlines()
    assert "dvc.lock" in changed
    assert "reports/metrics.json" in changed
    assert "reports/pr_report.md" not in changed
    lock = yaml.safe_load(git("show", f"{bot_commit}:dvc.lock", cwd=setup.origin))
    trained_with = lock["stages"]["train"]["params"]["params.yaml"]["model"]["hyperparameters"]
    assert trained_with["n_estimators"] == 50
    model_md5 = next(out["md5"] for out in lock["stages"]["train"]["outs"] if out["path"].endswith(".skops"))
    assert model_md5 in bodies[0]


def test_the_reports_are_uploaded_as_an_artifact(first_run, setup):
    artifact = setup.env["STAND_IN_ARTIFACTS"]

    assert (Path(artifact) / "reports" / "reports" / "pr_report.md").is_file()
    assert (Path(artifact) / "reports" / "reports" / "metrics.json").is_file()


def test_a_second_run_edits_the_same_comment_and_retrains_nothing(first_run, setup, github_api):
    api, _ = github_api
    bot_commit = git("rev-parse", "tune", cwd=setup.origin)

    _, log = run_pr_workflow(setup, api, "second")

    assert len(api.comments) == 1
    assert [request[0] for request in api.requests].count("PATCH") == 1
    assert f"Commit: `{bot_commit[:12]}`" in api.comments[0]["body"]
    assert "ci-commit: dvc.lock and results unchanged: nothing to commit" in log
    assert "Running stage 'train'" not in log
    assert git("rev-parse", "tune", cwd=setup.origin) == bot_commit


def test_the_merge_is_verified_on_a_fresh_clone_of_main_pushed_and_registered(first_run, setup, github_api):
    """What main.yml does on GitHub after the merge button: a new runner, only origin and the remote."""
    api, api_url = github_api
    merger = setup.home / "merger"
    run("git", "clone", "--quiet", str(setup.origin), str(merger), cwd=setup.home)
    git("merge", "--quiet", "--no-ff", "--no-edit", "origin/tune", cwd=merger)
    git("push", "--quiet", "origin", "HEAD:main", cwd=merger)
    merge = git("rev-parse", "HEAD", cwd=merger)
    api.pulls[merge] = PR_NUMBER
    fresh = setup.home / "main-checkout"
    run("git", "clone", "--quiet", str(setup.origin), str(fresh), cwd=setup.home)
    git("remote", "set-url", "origin", f"https://github.com/{REPOSITORY}.git", cwd=fresh)
    event = setup.home / "push.json"
    event.write_text(
        json.dumps({"ref": "refs/heads/main", "after": merge, "repository": {"full_name": REPOSITORY}})
    )
    workflow = fresh / ".github" / "workflows" / "main.yml"

    result = run(
        "act", "push", "-W", str(workflow), "-e", str(event),
        "-P", "ubuntu-latest=-self-hosted", "--pull=false", "--no-skip-checkout", "--no-cache-server",
        "--action-cache-path", str(setup.home / "act-main"),
        "-s", f"GITHUB_TOKEN={TOKEN}", "--env", f"GITHUB_API_URL={api_url}",
        *local_repository_args(workflow),
        cwd=fresh, env=setup.env, check=False,
    )  # fmt: skip

    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-6000:]
    assert "verify-lock: dvc.lock matches" in log
    assert git("rev-parse", "model@v0.1.0^{commit}", cwd=setup.origin) == merge
    lock = yaml.safe_load(git("show", f"{merge}:dvc.lock", cwd=setup.origin))
    model_md5 = next(out["md5"] for out in lock["stages"]["train"]["outs"] if out["path"].endswith(".skops"))
    assert (setup.storage / "files" / "md5" / model_md5[:2] / model_md5[2:]).is_file()
