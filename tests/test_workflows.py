"""The generated GitHub workflows pass the linters for every option, and stay thin."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from .conftest import PACKAGE
from .test_render import COMBINATIONS, IDS

RUNNERS = ["cml-aws", "cml-gcp", "cml-azure", "self-hosted"]  # training_runner answers besides github
# Its own answers first, then test_render's in reverse: when both files run at once on two
# workers, each bakes what the other has not reached yet and shares the rest (bake_once).
WORKFLOW_COMBINATIONS = [
    *({"training_runner": runner} for runner in RUNNERS),
    {"publish_plots": "yes"},
    *reversed(COMBINATIONS),
]
WORKFLOW_IDS = [*RUNNERS, "publish_plots", *reversed(IDS)]
# A run line is a make call, the project's own command, or a message to the log.
PROJECT_COMMAND = re.compile(rf"uv run python -m {PACKAGE} [a-z-]+")
MESSAGE = re.compile(r'echo "[^"]*"( && exit 1)?')


@pytest.fixture(params=WORKFLOW_COMBINATIONS, ids=WORKFLOW_IDS)
def project(request, bake_once) -> Path:
    return bake_once(**request.param)


def workflows(project: Path) -> list[Path]:
    return sorted((project / ".github" / "workflows").glob("*.yml"))


def tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is not installed: run the tests through `make test`"
    return found


def test_the_project_has_the_pr_main_and_monitor_workflows(project):
    assert [path.name for path in workflows(project)] == [
        "deploy.yml",
        "main.yml",
        "monitor.yml",
        "pr.yml",
        "promote.yml",
        "retrain.yml",
        "template-update.yml",
    ]


def test_actionlint_finds_nothing(project):
    result = subprocess.run(
        [tool("actionlint"), "-no-color", *map(str, workflows(project))], capture_output=True, text=True
    )

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("persona", ["regular", "auditor"])
def test_zizmor_finds_nothing_offline(project, persona):
    """The auditor persona too: each of its findings is answered inline, with the reason."""
    result = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", "--persona", persona, str(project / ".github")],
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout


def test_workflows_and_dependabot_match_their_schemas(project):
    github = project / ".github"
    checks = [
        ["--builtin-schema", "vendor.github-workflows", *map(str, workflows(project))],
        ["--builtin-schema", "vendor.dependabot", str(github / "dependabot.yml")],
    ]
    for arguments in checks:
        result = subprocess.run([tool("check-jsonschema"), *arguments], capture_output=True, text=True)

        assert result.returncode == 0, result.stdout + result.stderr


def make_targets(project: Path) -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", (project / "Makefile").read_text(), flags=re.MULTILINE))


def run_lines(workflow: Path) -> list[str]:
    """Every command line of every `run:` step."""
    jobs = yaml.safe_load(workflow.read_text())["jobs"]
    return [
        line.strip()
        for job in jobs.values()
        for step in job.get("steps", [])  # a job that calls a reusable workflow has none
        if "run" in step
        for line in step["run"].splitlines()
        if line.strip()
    ]


def test_every_run_step_is_a_make_target_or_a_project_command(project):
    targets = make_targets(project)
    unexplained = []
    for workflow in workflows(project):
        for line in run_lines(workflow):
            if line.startswith("make "):
                command = line.removesuffix(' >> "$GITHUB_OUTPUT"').split()[1:]
                missing = [
                    word for word in command if "=" not in word and word != "-s" and word not in targets
                ]
                if missing:
                    unexplained.append(f"{workflow.name}: {line} (no target {', '.join(missing)})")
            elif not (PROJECT_COMMAND.fullmatch(line) or MESSAGE.fullmatch(line)):
                unexplained.append(f"{workflow.name}: {line}")

    assert unexplained == []


# Each pin was checked once against the action's own repository: the commit is the one its
# release tag points at (peeled, for annotated tags), and it holds the files action.yml runs.
# A pin this table does not know fails the test: check it, then add it here.
RELEASE_PINS = {
    ("actions/checkout", "08c6903cd8c0fde910a37f88322edcfb5dd907a8"): "v5.0.0",
    ("actions/cache", "5a3ec84eff668545956fd18022155c47e93e2684"): "v4.2.3",
    ("actions/upload-artifact", "ea165f8d65b6e75b540449e92b4886f43607fa02"): "v4.6.2",
    ("actions/download-artifact", "d3f86a106a0bac45b974a628896c90dbdf5c8093"): "v4.3.0",
    ("astral-sh/setup-uv", "e92bafb6253dcd438e0484186d7669ea7a8ca1cc"): "v6.4.3",
    ("iterative/setup-cml", "f12ea7685438c1fc438d50f77519b3860cf5fa98"): "v2.0.1",
    ("aws-actions/configure-aws-credentials", "e6de054238d6b7531b4efff3b6587d9aade6a06c"): "v6.2.3",
    ("google-github-actions/auth", "7c6bc770dae815cd3e89ee6cdf493a5fab2cc093"): "v3.0.0",
    ("Azure/login", "f5d393ae46f8fde4be8b75f32e3fc50e654ad0ca"): "v3.0.1",
}
PIN = re.compile(r"uses: ([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # (v[\d.]+)$")


def test_every_action_is_pinned_to_a_known_release_commit_with_its_tag(project):
    for workflow in workflows(project):
        for line in workflow.read_text().splitlines():
            if "uses:" not in line or "uses: ./" in line:  # ./ is this repository's own workflow
                continue
            pin = PIN.search(line.strip())
            assert pin, f"{workflow.name}: not pinned by commit with its tag: {line.strip()}"
            action, commit, tag = pin.groups()
            assert RELEASE_PINS.get((action, commit)) == tag, f"{workflow.name}: unknown pin {line.strip()}"


def test_cml_is_pinned_and_installs_no_vega_tools(project):
    steps = yaml.safe_load((project / ".github" / "workflows" / "pr.yml").read_text())["jobs"]["pipeline"][
        "steps"
    ]
    setup_cml = next(step for step in steps if step.get("uses", "").startswith("iterative/setup-cml@"))

    assert setup_cml["with"] == {"version": "v0.20.6", "vega": False}


def test_publishing_plots_is_off_unless_chosen(bake_once):
    default = bake_once()
    chosen = bake_once(publish_plots="yes")

    assert "CML_PUBLISH := --no-publish" in (default / "Makefile").read_text()
    assert yaml.safe_load((default / "params.yaml").read_text())["report"]["publish_plots"] is False
    assert "CML_PUBLISH := --publish" in (chosen / "Makefile").read_text()
    assert yaml.safe_load((chosen / "params.yaml").read_text())["report"]["publish_plots"] is True


def test_the_templates_own_ci_is_clean_too():
    ci = Path(__file__).resolve().parents[1] / ".github" / "workflows" / "ci.yml"
    commands = [
        [tool("actionlint"), "-no-color", str(ci)],
        [tool("zizmor"), "--offline", "--no-progress", str(ci)],
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(ci)],
    ]
    for command in commands:
        result = subprocess.run(command, capture_output=True, text=True)

        assert result.returncode == 0, result.stdout + result.stderr
    assert "run: make test" in ci.read_text()


def test_the_tag_ruleset_lets_only_maintainers_and_admins_write_registry_tags(bake_once):
    project = bake_once()
    ruleset = json.loads((project / ".github" / "rulesets" / "model-tags.json").read_text())
    readme = (project / "README.md").read_text()

    assert ruleset["target"] == "tag"
    assert ruleset["enforcement"] == "active"
    assert set(ruleset["conditions"]["ref_name"]["include"]) == {"refs/tags/model@*", "refs/tags/model#*"}
    assert sorted(rule["type"] for rule in ruleset["rules"]) == ["creation", "deletion", "update"]
    assert ruleset["bypass_actors"] == [
        {"actor_id": 2, "actor_type": "RepositoryRole", "bypass_mode": "always"},
        {"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"},
    ]
    assert "gh api -X POST repos/OWNER/REPO/rulesets --input .github/rulesets/model-tags.json" in readme
