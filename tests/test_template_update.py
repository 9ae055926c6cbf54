"""Template updates: a project made with `cruft create` has .cruft.json in its first commit, and
template-update.yml (under act) turns a newer template commit into ONE pull request; a later
template commit updates that same pull request, with a conflict listed where the project and
the template changed the same line.

The template is a git copy of this one on disk: commit A generates the project (whose team
then renames its README's title), commit B adds a line to .gitignore, commit C rewrites the
README's title too.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .act_harness import REPOSITORY, Flow, git
from .conftest import SLUG, TEMPLATE_DIR, project_env, run
from .github_stand_in import GitHubApi, github_url_rewrite, serve

pytestmark = pytest.mark.slow

BRANCH = "template-update"
GENERATED = "{{cookiecutter.project_slug}}"
B_LINE = "# ignored since template commit B"
PROJECT_TITLE = "# Customer Churn at ACME"
TEMPLATE_TITLE = "# The {{ cookiecutter.project_name }} model"


@dataclass
class Updates:
    commits: dict[str, str]  # A, B, C -> the template's commit
    status_after_create: str  # `git status --porcelain` right after `cruft create`
    origin: Path
    api: GitHubApi
    after_first: list[dict]  # the stand-in's pull requests after the first run
    first_branch: str  # the branch's head after the first run
    logs: dict[str, str]


def copy_template(destination: Path) -> str:
    """The template's files as they are in this checkout, as a new git repository; commit A."""
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=TEMPLATE_DIR)
    for relative in filter(None, listed.split("\0")):
        source = TEMPLATE_DIR / relative
        if source.is_file() and not source.is_symlink():
            (destination / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / relative)
    git("init", "--quiet", "-b", "main", cwd=destination)
    return commit_all(destination, "A: the template as tested")


def commit_all(repository: Path, message: str) -> str:
    git("add", "--all", cwd=repository)
    git("commit", "--quiet", "--no-verify", "-m", message, cwd=repository)
    return git("rev-parse", "HEAD", cwd=repository)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def recorded_commit(origin: Path, ref: str) -> str:
    """The template commit a ref's .cruft.json records."""
    return json.loads(git("show", f"{ref}:.cruft.json", cwd=origin))["commit"]


def dispatch(flow: Flow, name: str) -> None:
    """template-update.yml by hand (workflow_dispatch), on a fresh clone of main."""
    checkout = flow.clone(f"{name}-checkout")
    workflow = checkout / ".github" / "workflows" / "template-update.yml"
    flow.act(checkout, workflow, "workflow_dispatch", {}, name)


@pytest.fixture(scope="module")
def updates(tmp_path_factory) -> Iterator[Updates]:
    root = tmp_path_factory.mktemp("template-update")
    template = root / "template"
    commits = {"A": copy_template(template)}
    run("cruft", "create", "--no-input", "--output-dir", str(root / "out"), str(template), cwd=root)
    project = root / "out" / SLUG
    status = git("status", "--porcelain", cwd=project)
    edit(project / "README.md", "# Customer Churn", PROJECT_TITLE)
    git("commit", "--quiet", "--no-verify", "-am", "Name the project after the team", cwd=project)
    origin = root / "origin.git"
    run("git", "clone", "--quiet", "--bare", str(project), str(origin), cwd=root)

    ignore = template / GENERATED / ".gitignore"
    ignore.write_text(ignore.read_text() + B_LINE + "\n")
    commits["B"] = commit_all(template, "B: ignore one more thing")

    api = GitHubApi(REPOSITORY)
    gitconfig = github_url_rewrite(root / "gitconfig", REPOSITORY, origin)
    with serve(api) as api_url:
        env = project_env(GIT_CONFIG_GLOBAL=str(gitconfig), STAND_IN_GITHUB_API=api_url)
        flow = Flow(root, origin, env, api, api_url, {})
        dispatch(flow, "first")
        after_first = copy.deepcopy(api.pull_requests)
        first_branch = git("rev-parse", BRANCH, cwd=origin)

        edit(template / GENERATED / "README.md", "# {{ cookiecutter.project_name }}", TEMPLATE_TITLE)
        commits["C"] = commit_all(template, "C: a new README title")
        dispatch(flow, "second")
        yield Updates(commits, status, origin, api, after_first, first_branch, flow.logs)


def test_cruft_create_commits_cruft_json_with_the_project(updates):
    assert updates.status_after_create == ""
    first_commit = git("rev-list", "--max-parents=0", "main", cwd=updates.origin)
    assert recorded_commit(updates.origin, first_commit) == updates.commits["A"]


def test_a_new_template_commit_opens_one_pull_request_with_its_change(updates):
    [pull] = updates.after_first
    gitignore = git("show", f"{updates.first_branch}:.gitignore", cwd=updates.origin)

    assert pull["head"]["ref"] == BRANCH
    assert pull["base"]["ref"] == "main"
    assert pull["title"] == "Update from the project template"
    assert "- `.gitignore`" in pull["body"]
    assert "Conflicts" not in pull["body"]
    assert gitignore.endswith(B_LINE)
    assert recorded_commit(updates.origin, updates.first_branch) == updates.commits["B"]
    # main is untouched: the change waits for review
    assert B_LINE not in git("show", "main:.gitignore", cwd=updates.origin)


def test_a_later_template_commit_updates_the_same_pull_request_and_marks_the_conflict(updates):
    [pull] = updates.api.pull_requests
    [first] = updates.after_first
    on_branch = git("ls-tree", "-r", "--name-only", BRANCH, cwd=updates.origin).split()
    readme = git("show", f"{BRANCH}:README.md", cwd=updates.origin)
    patched = [(method, path) for method, path, _ in updates.api.requests if method == "PATCH"]

    assert pull["number"] == first["number"]
    assert patched == [("PATCH", f"/repos/{REPOSITORY}/pulls/{pull['number']}")]
    assert recorded_commit(updates.origin, BRANCH) == updates.commits["C"]
    # the first run's commit is kept, the second adds to it
    assert git("rev-parse", f"{BRANCH}~1", cwd=updates.origin) == updates.first_branch
    assert "Conflicts to resolve on this branch before merging" in pull["body"]
    # The README's lines before C are the project's first commit's, so git merges three ways.
    assert "- `README.md`: conflict markers" in pull["body"]
    assert "<<<<<<<" in readme
    assert PROJECT_TITLE in readme
    assert "# The Customer Churn model" in readme
    assert "README.md.rej" not in on_branch
    assert "template-update: pull request #" in updates.logs["second"]
    assert "conflict(s) to resolve" in updates.logs["second"]
