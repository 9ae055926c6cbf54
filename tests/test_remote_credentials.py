"""The answers configure the workflows' credentials for the DVC remote (issue 17, item 3).

Every job that talks to a cloud remote signs in (OIDC first, a secret as the fallback) and
has `id-token: write`; with `none` or `local` no credential, secret or id-token appears.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import post_gen_project
import pytest
import yaml

from .conftest import TEMPLATE_DIR
from .test_render import remote_answers

TEMPLATE_CREDENTIALS = TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / ".github" / "remote-credentials"
CLOUDS = ("s3", "gcs", "azure")
# The jobs that run make pull, make push or make deploy (which runs `dvc get`).
REMOTE_JOBS = {"pr.yml": "pipeline", "main.yml": "verify", "monitor.yml": "drift", "deploy.yml": "deploy"}
SIGN_IN_ACTION = {
    "s3": "aws-actions/configure-aws-credentials@",
    "gcs": "google-github-actions/auth@",
    "azure": "Azure/login@",
}
FALLBACK_SECRETS = {
    "s3": {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"},
    "gcs": {"GCP_CREDENTIALS_JSON"},
    "azure": {"AZURE_STORAGE_CONNECTION_STRING"},
}
CLOUD_SECRETS = set().union(*FALLBACK_SECRETS.values())
REMOTE_COMMANDS = ("make pull", "make push", "make deploy", "make drift-reference")


def bake_remote(bake_once, remote: str) -> Path:
    return bake_once(**remote_answers(remote))


def load(project: Path, name: str) -> dict:
    return yaml.safe_load((project / ".github" / "workflows" / name).read_text())


def workflow_texts(project: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted((project / ".github" / "workflows").glob("*.yml"))}


@pytest.mark.parametrize("remote", ["none", "local"])
def test_without_a_cloud_remote_no_credential_appears(bake_once, remote):
    for name, text in workflow_texts(bake_remote(bake_once, remote)).items():
        assert "id-token" not in text, name
        assert "dvc-remote:" not in text, name  # every marker is gone
        assert "DVC_REMOTE_SIGN_IN:" not in text, name
        assert not [secret for secret in CLOUD_SECRETS if secret in text], name
        for action in SIGN_IN_ACTION.values():
            assert action not in text, name


@pytest.mark.parametrize("remote", CLOUDS)
def test_every_job_that_talks_to_the_remote_signs_in_first(bake_once, remote):
    project = bake_remote(bake_once, remote)
    for name, job_name in REMOTE_JOBS.items():
        job = load(project, name)["jobs"][job_name]
        steps = job["steps"]
        uses = [step.get("uses", "") for step in steps]
        runs = [step.get("run", "") for step in steps]
        sign_ins = [index for index, action in enumerate(uses) if action.startswith(SIGN_IN_ACTION[remote])]
        first_remote = min(index for index, run in enumerate(runs) if run.startswith(REMOTE_COMMANDS))

        assert job["permissions"]["id-token"] == "write", name
        assert "DVC_REMOTE_SIGN_IN" in job["env"], name
        assert sign_ins, f"{name}: no {SIGN_IN_ACTION[remote]} step"
        assert uses[0].startswith("actions/checkout@") and min(sign_ins) > 0 and max(sign_ins) < first_remote
        conditions = {steps[index]["if"] for index in sign_ins}
        assert conditions <= {"env.DVC_REMOTE_SIGN_IN == 'oidc'", "env.DVC_REMOTE_SIGN_IN == 'secret'"}
        assert any(step.get("if") == "env.DVC_REMOTE_SIGN_IN == 'none'" for step in steps), name


@pytest.mark.parametrize("remote", CLOUDS)
def test_id_token_only_where_the_remote_is_used(bake_once, remote):
    project = bake_remote(bake_once, remote)
    for name, workflow in ((name, load(project, name)) for name in workflow_texts(project)):
        assert "id-token" not in workflow.get("permissions", {}), name
        for job_name, job in workflow["jobs"].items():
            if "id-token" in (job.get("permissions") or {}):
                assert REMOTE_JOBS.get(name) == job_name or (name, job_name) == ("promote.yml", "deploy")


@pytest.mark.parametrize("remote", CLOUDS)
def test_only_the_chosen_clouds_secrets_and_promote_passes_them_to_deploy(bake_once, remote):
    project = bake_remote(bake_once, remote)
    texts = workflow_texts(project)
    others = CLOUD_SECRETS - FALLBACK_SECRETS[remote]
    for name, text in texts.items():
        assert not [secret for secret in others if secret in text], name
        assert "dvc-remote:" not in text, name

    declared = load(project, "deploy.yml")[True]["workflow_call"]["secrets"]  # `on:` is YAML's True
    passed = load(project, "promote.yml")["jobs"]["deploy"]["secrets"]
    assert set(declared) == set(passed) == FALLBACK_SECRETS[remote]
    assert load(project, "promote.yml")["jobs"]["deploy"]["permissions"]["id-token"] == "write"


@pytest.mark.parametrize("remote", CLOUDS)
def test_oidc_is_not_tried_for_dependabot_and_its_pushes_need_a_dependabot_secret(bake_once, remote):
    project = bake_remote(bake_once, remote)
    sign_in = load(project, "pr.yml")["jobs"]["pipeline"]["env"]["DVC_REMOTE_SIGN_IN"]
    push = next(
        step
        for step in load(project, "pr.yml")["jobs"]["pipeline"]["steps"]
        if step.get("run") == "make push"
    )

    assert "github.actor != 'dependabot[bot]' && 'oidc'" in sign_in
    assert "'secret' || 'none'" in sign_in  # the secret: an Actions secret, or a Dependabot one
    assert "env.DVC_REMOTE_SIGN_IN != 'none'" in push["if"]


def test_the_aws_oidc_step_gets_no_access_keys():
    """With keys and a role, configure-aws-credentials assumes the role WITH the keys, not by OIDC."""
    steps = yaml.safe_load(post_gen_project.remote_snippets("s3", TEMPLATE_CREDENTIALS)["steps"])
    oidc = next(step for step in steps if step.get("if") == "env.DVC_REMOTE_SIGN_IN == 'oidc'")

    assert set(oidc["with"]) == {"role-to-assume", "aws-region"}


def test_the_gcs_project_ignores_the_credentials_file_its_sign_in_writes(bake_once):
    assert "gha-creds-*.json" in (bake_remote(bake_once, "gcs") / ".gitignore").read_text().splitlines()


def test_markers_take_their_indentation_and_unknown_ones_fail(tmp_path):
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "a.yml").write_text("jobs:\n  j:\n    permissions:\n      # dvc-remote: id-token\n")
    (workflows / "b.yml").write_text("jobs: {}\n")
    shutil.copytree(TEMPLATE_CREDENTIALS, tmp_path / ".github" / "remote-credentials")

    assert post_gen_project.configure_remote_credentials(tmp_path, "gcs") == ["a.yml"]
    assert not (tmp_path / ".github" / "remote-credentials").exists()
    assert (
        (workflows / "a.yml")
        .read_text()
        .endswith("    permissions:\n      id-token: write   # sign in to the DVC remote's cloud by OIDC\n")
    )

    (workflows / "a.yml").write_text("    # dvc-remote: nonsense\n")
    with pytest.raises(ValueError, match="nonsense"):
        post_gen_project.configure_remote_credentials(tmp_path, "none")
