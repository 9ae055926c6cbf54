"""Training on a bigger machine: the `training_runner` answer decides where pr.yml's pipeline job
runs. `github` keeps GitHub's runner; `self-hosted` asks for the team's own runner; `cml-*` adds
a job that starts a spot machine in the team's cloud with `cml runner launch`, which the
pipeline job then runs on. The launch job runs under act, with CML's stand-in recording what it
was asked for.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from .act_harness import REPOSITORY, Flow
from .conftest import project_env, run
from .github_stand_in import GitHubApi, github_url_rewrite, serve

CLOUD_SECRETS = {
    "aws": {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"},
    "gcp": {"GOOGLE_APPLICATION_CREDENTIALS_DATA"},
    "azure": {"AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_SUBSCRIPTION_ID", "AZURE_TENANT_ID"},
}


def jobs(project: Path) -> dict:
    return yaml.safe_load((project / ".github" / "workflows" / "pr.yml").read_text())["jobs"]


def launch_step(job: dict) -> dict:
    return next(step for step in job["steps"] if step.get("run") == "make launch-runner")


@pytest.mark.parametrize("runner", ["github", "self-hosted"])
def test_github_and_self_hosted_add_no_job_and_leave_no_marker(bake_once, runner):
    project = bake_once(training_runner=runner)
    text = (project / ".github" / "workflows" / "pr.yml").read_text()
    pipeline = jobs(project)["pipeline"]

    assert "launch-runner" not in jobs(project)
    assert pipeline["needs"] == "checks"
    assert pipeline["runs-on"] == ("ubuntu-latest" if runner == "github" else ["self-hosted", "linux", "x64"])
    assert "training-runner:" not in text
    assert not (project / ".github" / "training-runners.yml").exists()


@pytest.mark.parametrize("cloud", sorted(CLOUD_SECRETS))
def test_a_cml_runner_is_launched_in_the_chosen_cloud_for_the_pipeline_job(bake_once, cloud):
    project = bake_once(training_runner=f"cml-{cloud}")
    launch, pipeline = jobs(project)["launch-runner"], jobs(project)["pipeline"]
    env = launch_step(launch)["env"]
    readme = (project / "README.md").read_text()

    assert pipeline["needs"] == ["checks", "launch-runner"]
    assert pipeline["runs-on"] == ["self-hosted", env["LABELS"]]
    assert launch["needs"] == "checks"
    assert "head.repo.full_name == github.repository" in launch["if"]  # a fork's PR starts no machine
    assert env["CLOUD"] == cloud
    assert env["REPO_TOKEN"] == "${{ secrets.RUNNER_TOKEN }}"
    assert {name for name in env if env[name] == f"${{{{ secrets.{name} }}}}"} == CLOUD_SECRETS[cloud]
    for secret in ["RUNNER_TOKEN", *CLOUD_SECRETS[cloud]]:
        assert f"`{secret}`" in readme


def launch_only(pr_yml: Path, destination: Path) -> Path:
    """pr.yml with only its launch-runner job, and without its `needs` (act runs needed jobs too)."""
    workflow = yaml.safe_load(pr_yml.read_text())
    job = {key: value for key, value in workflow["jobs"]["launch-runner"].items() if key != "needs"}
    trimmed = {"name": workflow["name"], "on": ["pull_request"], "permissions": workflow["permissions"],
               "env": workflow["env"], "jobs": {"launch-runner": job}}  # fmt: skip
    destination.write_text(yaml.safe_dump(trimmed, sort_keys=False))
    return destination


def pull_request_event(head_repository: str) -> dict:
    repo = {"full_name": head_repository, "fork": head_repository != REPOSITORY}
    head = {"ref": "tune", "sha": "0" * 40, "repo": repo}
    base = {"ref": "main", "sha": "1" * 40, "repo": {"full_name": REPOSITORY, "fork": False}}
    return {"number": 7, "pull_request": {"number": 7, "head": head, "base": base}}


@pytest.mark.slow
def test_the_launch_job_asks_cml_for_a_spot_machine_with_the_pipelines_label(bake_once, tmp_path):
    project = bake_once(training_runner="cml-aws")
    origin = tmp_path / "origin.git"
    run("git", "clone", "--quiet", "--bare", str(project), str(origin), cwd=tmp_path)
    record = tmp_path / "cml-runner-launch.jsonl"
    gitconfig = github_url_rewrite(tmp_path / "gitconfig", REPOSITORY, origin)
    secrets = ("RUNNER_TOKEN=runner-token", "AWS_ACCESS_KEY_ID=key-id", "AWS_SECRET_ACCESS_KEY=secret")
    api = GitHubApi(REPOSITORY)
    with serve(api) as api_url:
        env = project_env(GIT_CONFIG_GLOBAL=str(gitconfig), STAND_IN_CML_RECORD=str(record))
        flow = Flow(tmp_path, origin, env, api, api_url, {}, secrets)
        checkout = flow.clone("checkout")
        workflow = launch_only(checkout / ".github" / "workflows" / "pr.yml", tmp_path / "launch.yml")
        flow.act(checkout, workflow, "pull_request", pull_request_event(REPOSITORY), "same-repo")
        flow.act(checkout, workflow, "pull_request", pull_request_event("someone/fork"), "fork")

    [launched] = [json.loads(line) for line in record.read_text().splitlines()]  # none for the fork
    label = jobs(project)["pipeline"]["runs-on"][1]
    assert launched["argv"] == [
        "runner", "launch", "--cloud=aws", "--cloud-type=m", "--cloud-region=us-west",
        "--cloud-spot", "--single", "--idle-timeout=15min", f"--labels={label}",
    ]  # fmt: skip
    assert launched["credentials"] == ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
