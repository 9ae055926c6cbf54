"""What the tests that run the generated workflows under `act` share: a bare origin, GitHub's
API stand-in (tests/github_stand_in.py), the action stand-ins (tests/stand_ins/), and `act`.

A flow starts from a trained project: its results committed on main, pushed to a bare origin,
and a pull request branch `tune` that changes one param only. From there on, only what origin,
the stand-ins and the DVC remote (if any) hold: every workflow runs on a fresh clone.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from .conftest import SLUG, build_environment, project_env, run
from .github_stand_in import GitHubApi, github_url_rewrite, serve
from .test_pipeline import set_params

OWNER = "your-github-user"
REPOSITORY = f"{OWNER}/{SLUG}"
STAND_INS = Path(__file__).parent / "stand_ins"
TOKEN = "stand-in-token"
PR_NUMBER = 7
USES = re.compile(r"uses:\s*([\w.-]+/[\w.-]+)@([0-9a-f]{40})")
CALLS = re.compile(r"uses:\s*\./(\.github/workflows/[\w.-]+)")  # a reusable workflow of the repository
CHECKS_DONE = "Success - Main make test"  # act's line for the checks job's last step


def git(*arguments: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    return run("git", *arguments, cwd=cwd, env=env).stdout.strip()


def local_repository_args(workflow: Path) -> list[str]:
    """`--local-repository` for every pinned action of the workflow and of the workflows it calls,
    to its stand-in."""
    text = workflow.read_text()
    root = workflow.parent.parent.parent
    text += "".join((root / called).read_text() for called in CALLS.findall(text))
    args = []
    for name, sha in sorted(set(USES.findall(text))):
        stand_in = STAND_INS / name.split("/")[1]
        assert stand_in.is_dir(), f"no stand-in for {name}"
        args += ["--local-repository", f"{name}@{sha}={stand_in}"]
    return args


def lock_md5(text: str, path: str) -> str:
    stages = yaml.safe_load(text)["stages"].values()
    return next(out["md5"] for stage in stages for out in stage.get("outs", []) if out["path"] == path)


def without_checks_job(workflow: Path, destination: Path) -> Path:
    """pr.yml without its first job, `checks` (make setup, lint, test), nor any `needs: checks`.

    `act --job` runs a job's `needs` too, so a run that asserts only on what the pipeline job
    does gets this copy; the checks job itself runs, and passes, in each flow's first PR run.
    """
    text = workflow.read_text()
    start = text.index("\n  checks:\n", text.index("\njobs:\n"))
    end = re.compile(r"\n  [\w-]+:\n").search(text, start + 1).start()
    trimmed = re.sub(r"\n    needs: checks\b[^\n]*", "", text[:start] + text[end:])
    assert "checks" not in yaml.safe_load(trimmed)["jobs"]
    assert "needs: checks" not in trimmed and "\n  pipeline:\n" in trimmed
    destination.write_text(trimmed)
    return destination


@dataclass
class Flow:
    root: Path
    origin: Path
    env: dict[str, str]
    api: GitHubApi
    api_url: str
    logs: dict[str, str]
    secrets: tuple[str, ...] = ()  # NAME=value, for act's -s, besides GITHUB_TOKEN

    def clone(self, name: str, ref: str = "main") -> Path:
        """A fresh clone of origin at `ref`, whose origin URL is GitHub's (rewritten to the bare one)."""
        checkout = self.root / name
        run("git", "clone", "--quiet", str(self.origin), str(checkout), cwd=self.root, env=self.env)
        git("checkout", "--quiet", "--detach", ref, cwd=checkout)
        git("remote", "set-url", "origin", f"https://github.com/{REPOSITORY}.git", cwd=checkout)
        return checkout

    def pull_request(
        self, branch: str, number: int, name: str, *, checks_job: bool = True, fork: str | None = None
    ) -> str:
        """pr.yml, on a fresh clone, for the head of `branch` on origin, as pull request `number`
        (from the repository `fork` when given: GitHub keeps a fork's head in the base repository).

        Returns the head it ran for. Without `checks_job`, only the pipeline job runs (see
        without_checks_job); with it, the log must show the checks job's unit tests passed.
        """
        head = git("rev-parse", branch, cwd=self.origin)
        base = git("rev-parse", "main", cwd=self.origin)
        self.api.pulls[head] = number
        checkout = self.clone(f"{name}-checkout", ref=f"origin/{branch}")
        workflow = checkout / ".github" / "workflows" / "pr.yml"
        if not checks_job:
            workflow = without_checks_job(workflow, self.root / f"{name}-pr.yml")
        repo = {"full_name": REPOSITORY, "fork": False}
        head_repo = {"full_name": fork, "fork": True} if fork else repo
        pull = {"number": number, "head": {"ref": branch, "sha": head, "repo": head_repo},
                "base": {"ref": "main", "sha": base, "repo": repo}}  # fmt: skip
        log = self.act(checkout, workflow, "pull_request", {"number": number, "pull_request": pull}, name)
        assert (CHECKS_DONE in log) == checks_job, log[-4000:]
        return head

    def merge(self, branch: str, number: int, *, queue: bool = False) -> str:
        """The merge button: `branch` merged into main on origin; returns the merge commit. With
        `queue`, what GitHub's merge queue does first: the same merge, pushed to a temporary branch."""
        merger = self.clone(f"merger-{number}{'-queue' if queue else ''}")
        git("checkout", "--quiet", "-B", "main", "origin/main", cwd=merger)
        base = git("rev-parse", "HEAD", cwd=merger)
        message = f"Merge pull request #{number}"
        git(
            "merge",
            "--quiet",
            "--no-ff",
            "--no-edit",
            "-m",
            message,
            f"origin/{branch}",
            cwd=merger,
            env=self.env,
        )
        target = f"gh-readonly-queue/main/pr-{number}-{base}" if queue else "main"
        git("push", "--quiet", "origin", f"HEAD:refs/heads/{target}", cwd=merger, env=self.env)
        merge = git("rev-parse", "HEAD", cwd=merger)
        self.api.pulls[merge] = number
        return merge

    def merge_queue(self, branch: str, number: int, name: str, *, succeeds: bool = True) -> str:
        """pr.yml on a `merge_group` event for `branch` queued into main (see merge); returns its log.

        Only the merge-queue job and its checks run there; the checks job is left out as in
        pull_request(checks_job=False)."""
        base = git("rev-parse", "main", cwd=self.origin)
        merge = self.merge(branch, number, queue=True)
        head_ref = f"refs/heads/gh-readonly-queue/main/pr-{number}-{base}"
        checkout = self.clone(f"{name}-checkout", ref=merge)
        pr_yml = checkout / ".github" / "workflows" / "pr.yml"
        workflow = without_checks_job(pr_yml, self.root / f"{name}-pr.yml")
        group = {"head_sha": merge, "head_ref": head_ref, "base_sha": base, "base_ref": "refs/heads/main"}
        payload = {"action": "checks_requested", "ref": head_ref, "merge_group": group}
        return self.act(checkout, workflow, "merge_group", payload, name, succeeds=succeeds)

    def push_to_main(self, merge: str, name: str, *, succeeds: bool = True) -> str:
        """main.yml, on a fresh clone of main, for the push of `merge`; returns its log."""
        checkout = self.clone(f"{name}-checkout")
        workflow = checkout / ".github" / "workflows" / "main.yml"
        event = {"ref": "refs/heads/main", "after": merge}
        return self.act(checkout, workflow, "push", event, name, succeeds=succeeds)

    def act(
        self, checkout: Path, workflow: Path, event: str, payload: dict, name: str, *, succeeds: bool = True
    ) -> str:
        """Run one workflow file in the checkout under act; return its log (the run must succeed,
        or fail when not `succeeds`). Each run has its own run id, as on GitHub; with
        $TEMPLATE_ACT_LOGS set, the log is also kept there (benchmarks/act_coverage.py reads it)."""
        repository = {"full_name": REPOSITORY, "fork": False, "default_branch": "main"}
        self.logs[name] = log = run_act(
            self.root, name, checkout, workflow, event, {**payload, "repository": repository}, self.env,
            "-s", f"GITHUB_TOKEN={TOKEN}", *[arg for secret in self.secrets for arg in ("-s", secret)],
            "--env", f"GITHUB_API_URL={self.api_url}",
            "--env", f"GITHUB_RUN_ID={len(self.logs) + 1}",
            succeeds=succeeds,
        )  # fmt: skip
        return log


def run_act(
    root: Path,
    name: str,
    checkout: Path,
    workflow: Path,
    event: str,
    payload: dict,
    env: dict[str, str],
    *options: str,
    succeeds: bool = True,
) -> str:
    """`act` running `workflow` in `checkout` for `event` with `payload`, on this machine (no
    container), each pinned action mapped to its stand-in; return its log, which must show the run
    succeeded (or failed, when not `succeeds`), and keep it (see keep_log).

    GitHub's runner starts each job with an empty environment that uv fills from its cache in
    a second; Python then compiles the bytecode of pandas, scikit-learn, DVC... in it on first
    import, seconds each job. So the jobs of every run under `root` share one environment,
    `root`/venv, and each job's `make setup` (`uv sync --locked`) makes it exactly the lock and
    this checkout's package again. A flow (open_flow) builds it before its first job, from the
    lock, with the compiled modules of the project it started from; elsewhere the first job
    builds it from nothing, as a fresh runner does.
    Python writes bytecode as on GitHub's runners (some machines turn that off in the environment
    act passes on: an empty value turns it back on).
    """
    event_file = root / f"{name}.json"
    event_file.write_text(json.dumps(payload))
    result = run(
        "act", event, "-W", str(workflow), "-e", str(event_file),
        "-P", "ubuntu-latest=-self-hosted", "--pull=false", "--no-skip-checkout", "--no-cache-server",
        "--action-cache-path", str(root / f"act-{name}"),
        "--env", f"UV_PROJECT_ENVIRONMENT={root / 'venv'}",
        "--env", "PYTHONDONTWRITEBYTECODE=",
        *options,
        *local_repository_args(workflow),
        cwd=checkout, env=env, check=False,
    )  # fmt: skip
    log = result.stdout + result.stderr
    keep_log(f"{root.name}-{name}", log)
    assert (result.returncode == 0) == succeeds, log[-8000:]
    return log


def keep_log(name: str, log: str) -> None:
    """Keep an act log in $TEMPLATE_ACT_LOGS, if set, for the count of steps the tests run."""
    if directory := os.environ.get("TEMPLATE_ACT_LOGS"):
        Path(directory).mkdir(parents=True, exist_ok=True)
        (Path(directory) / f"{name}.log").write_text(log)


@contextmanager
def open_flow(root: Path, project: Path, **env: str) -> Iterator[Flow]:
    """`project`'s uncommitted results committed on main and pushed to a bare origin with the
    branch `tune` (fewer trees); the project is then removed, and the API stand-in served.
    What actions/cache keeps between runs is in `root`/actions-cache (tests/stand_ins/cache)."""
    git("add", "--all", cwd=project)
    git("commit", "--quiet", "--no-verify", "-m", "Train the first model", cwd=project)
    origin = root / "origin.git"
    run("git", "clone", "--quiet", "--bare", str(project), str(origin), cwd=root)
    git("checkout", "--quiet", "-b", "tune", cwd=project)
    set_params(project, **{"model.hyperparameters.n_estimators": 50})
    git("commit", "--quiet", "--no-verify", "-am", "Try fewer trees", cwd=project)
    git("push", "--quiet", str(origin), "tune", cwd=project)
    build_environment(project, root / "venv", compiled_in=project / ".venv")  # the jobs' (see run_act)
    shutil.rmtree(project)  # from here on, only what origin, the stand-ins and the remote hold

    gitconfig = github_url_rewrite(root / "gitconfig", REPOSITORY, origin)
    api = GitHubApi(REPOSITORY, artifacts_dir=root / "artifacts")
    with serve(api) as api_url:
        flow_env = project_env(
            GIT_CONFIG_GLOBAL=str(gitconfig),
            STAND_IN_GITHUB_API=api_url,
            STAND_IN_ARTIFACTS=str(api.artifacts_dir),
            STAND_IN_DOCKER_CALLS=str(root / "docker-calls"),
            STAND_IN_CACHE=str(root / "actions-cache"),
            **env,
        )
        # `gh` and `docker`, as on GitHub's runners (this machine has neither)
        programs = [str(STAND_INS / "gh"), str(STAND_INS / "docker")]
        flow_env["PATH"] = os.pathsep.join([*programs, flow_env["PATH"]])
        yield Flow(root, origin, flow_env, api, api_url, {})
