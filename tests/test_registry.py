"""In a baked project with a bare `origin` and a directory DVC remote, the registry works for real:
merges register versions, promotions and rollbacks are pushed tags, deploy ships exactly the
tagged model. One story is played once per session; each test checks one part of it."""

from __future__ import annotations

import json
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from .conftest import PACKAGE, copy_project, project_env, run

pytestmark = pytest.mark.slow

OVERRIDE = "incident 42: staging is down, prod needs this fix now"

ENV = project_env(DVC_NO_ANALYTICS="1")


@dataclass
class Story:
    """The project, its origin, and what each step of the story printed and left behind."""

    project: Path
    origin: Path
    storage: Path
    deployer: Path
    published: Path
    merges: dict[str, str] = field(default_factory=dict)
    steps: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)
    tags_around: dict[str, tuple[str, str]] = field(default_factory=dict)
    shown: dict[str, dict] = field(default_factory=dict)
    bundles_around: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)


def git(project: Path, *arguments: str) -> str:
    return run("git", *arguments, cwd=project, env=ENV).stdout.strip()


def origin_tags(story: Story) -> dict[str, str]:
    """Tags on origin and the commits they point at."""
    listed = git(story.project, "ls-remote", "--tags", "origin")
    peeled = {}
    for line in listed.splitlines():
        sha, ref = line.split("\t")
        if ref.endswith("^{}"):
            peeled[ref.removeprefix("refs/tags/").removesuffix("^{}")] = sha
    return peeled


def all_tags(story: Story) -> str:
    """Every tag, here and on origin, to show that a refused command changed neither."""
    here = git(story.project, "tag", "--list")
    return f"{here}\n--\n{git(story.project, 'ls-remote', '--tags', 'origin')}"


def merge(story: Story, name: str, change, message: str) -> None:
    """Make a change on a branch and merge it into main with a merge commit, as a pull request would."""
    project = story.project
    git(project, "checkout", "--quiet", "-b", name)
    change(project)
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--no-verify", "-m", message)
    git(project, "checkout", "--quiet", "main")
    git(project, "merge", "--quiet", "--no-ff", name, "-m", f"Merge branch '{name}'")
    git(project, "push", "--quiet", "origin", "main")
    story.merges[name] = git(project, "rev-parse", "HEAD")


def lock_md5(project: Path, path: str) -> str:
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    outs = [out for stage in lock["stages"].values() for out in stage.get("outs", [])]
    return next(out["md5"] for out in outs if out["path"] == path)


def record_model_tests(project: Path, passed: bool = True) -> None:
    """The model tests' committed verdict for the current model and test data, which promotion reads."""
    # The story records the verdict itself (make test-model takes longer), for the files dvc.lock names.
    computed_for = {
        "model": {"path": "models/model.skops", "md5": lock_md5(project, "models/model.skops")},
        "data": {"path": "data/processed/test.csv", "md5": lock_md5(project, "data/processed/test.csv")},
    }
    report = {"passed": passed, "computed_for": computed_for}
    (project / "reports" / "model_tests.json").write_text(json.dumps(report) + "\n")
    verdict = "All model tests passed." if passed else "❌ 6 model tests failed"
    (project / "reports" / "model_tests.md").write_text(f"# Model tests\n\n{verdict}\n")


def first_model(project: Path) -> None:
    record_model_tests(project)


def docs_only(project: Path) -> None:
    (project / "README.md").write_text((project / "README.md").read_text() + "\nA line of documentation.\n")


def fewer_trees(project: Path) -> None:
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["model"]["hyperparameters"]["n_estimators"] = 50
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run("make", "pipeline", cwd=project, env=ENV)
    record_model_tests(project)


def with_trees(project: Path, trees: int) -> None:
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["model"]["hyperparameters"]["n_estimators"] = trees
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def stale_results(story: Story):
    """Retrain, then test the model before evaluating it; commit without rerunning the model tests."""

    def change(project: Path) -> None:
        with_trees(project, 20)
        run("uv", "run", "dvc", "repro", "train", cwd=project, env=ENV)
        step(story, "test-model on stale metrics", "make", "test-model")
        run("make", "pipeline", cwd=project, env=ENV)

    return change


def weak_model(project: Path) -> None:
    with_trees(project, 3)
    run("make", "pipeline", cwd=project, env=ENV)
    record_model_tests(project, passed=False)


def hand_tag(story: Story, tag: str, target: str, message: str) -> None:
    """A stage tag written and pushed by hand, as anyone allowed to push tags could."""
    git(story.project, "tag", "-a", tag, f"{target}^{{commit}}", "-m", message)
    git(story.project, "push", "--quiet", "origin", f"refs/tags/{tag}")


def step(story: Story, name: str, *command: str, env: dict[str, str] | None = None) -> None:
    """Run a command of the story, keeping what it printed and the tags before and after."""
    before = all_tags(story)
    story.steps[name] = run(*command, cwd=story.project, check=False, env=env or ENV)
    story.tags_around[name] = (before, all_tags(story))


def show(story: Story) -> dict:
    shown = run(str(story.project / ".venv" / "bin" / "gto"), "show", "--json", cwd=story.project, env=ENV)
    return json.loads(shown.stdout)["model"]


def deploy(story: Story, name: str, tag: str, fetch: bool = True, **extra: str) -> None:
    """Deploy from a fresh clone of origin, as the deploy workflow does, to a directory publisher."""
    if fetch:
        git(story.deployer, "fetch", "--quiet", "--tags", "origin")
    env = {
        **ENV,
        **extra,
        "MODEL_PUBLISHER": str(story.deployer / "scripts" / "publish_directory.sh"),
        "MODEL_PUBLISH_DIR": str(story.published),
    }
    python = str(story.project / ".venv" / "bin" / "python")
    bundles = story.deployer / "build" / "deploy"
    before = sorted(path.name for path in bundles.glob("*")) if bundles.exists() else []
    story.steps[name] = run(python, "-m", PACKAGE, "deploy", tag, cwd=story.deployer, check=False, env=env)
    story.bundles_around[name] = (
        before,
        sorted(path.name for path in bundles.glob("*")) if bundles.exists() else [],
    )


def stored_object(story: Story, md5: str) -> Path:
    return story.storage / "files" / "md5" / md5[:2] / md5[2:]


def model_md5_at(story: Story, commit: str) -> str:
    lock = yaml.safe_load(git(story.project, "show", f"{commit}:dvc.lock"))
    return next(out["md5"] for out in lock["stages"]["train"]["outs"] if out["path"] == "models/model.skops")


@pytest.fixture(scope="session")
def story(ready_project, tmp_path_factory) -> Story:
    root = tmp_path_factory.mktemp("registry")
    project = copy_project(ready_project("classification"), root)
    story = Story(
        project=project,
        origin=root / "origin.git",
        storage=root / "dvc-storage",
        deployer=root / "deployer",
        published=root / "published",
    )
    run("git", "init", "--quiet", "--bare", "-b", "main", str(story.origin), cwd=root, env=ENV)
    git(project, "remote", "add", "origin", str(story.origin))
    run("uv", "run", "dvc", "remote", "modify", "storage", "url", str(story.storage), cwd=project, env=ENV)
    git(project, "reset", "--quiet")  # the pipeline's outputs come in with the first merge
    git(project, "add", ".dvc/config")
    git(project, "commit", "--quiet", "--no-verify", "-m", "Keep DVC data in the test storage")
    git(project, "push", "--quiet", "origin", "main")

    # Merges, each followed by what the main workflow does: register, then push the data.
    merge(story, "first-model", first_model, "Train the first model")
    step(story, "register first", "make", "register")
    run("make", "push", cwd=project, env=ENV)
    merge(story, "docs", docs_only, "Document the project")
    step(story, "register docs", "make", "register")
    merge(story, "fewer-trees", fewer_trees, "Use fewer trees")
    step(story, "register second", "make", "register", env={**ENV, "PR_LABELS": "performance,model:patch"})
    run("make", "push", cwd=project, env=ENV)

    # Promotions, the refused ones in between.
    step(story, "v0.1.0 to staging", "make", "promote", "VERSION=v0.1.0", "STAGE=staging")
    step(story, "v0.1.0 to prod", "make", "promote", "VERSION=v0.1.0", "STAGE=prod")
    step(story, "prod without staging", "make", "promote", "VERSION=v0.1.1", "STAGE=prod")
    step(story, "unknown version", "make", "promote", "VERSION=v9.9.9", "STAGE=staging")
    step(story, "unknown stage", "make", "promote", "VERSION=v0.1.1", "STAGE=qa")
    step(story, "malformed version", "make", "promote", "VERSION=0.1.1", "STAGE=staging")
    step(story, "v0.1.1 to staging", "make", "promote", "VERSION=v0.1.1", "STAGE=staging")
    step(story, "v0.1.1 to prod", "make", "promote", "VERSION=v0.1.1", "STAGE=prod")
    story.shown["promoted"] = show(story)
    step(story, "make registry", "make", "registry")

    step(story, "rollback prod", "make", "rollback", "STAGE=prod")
    story.shown["rolled back"] = show(story)

    # An old commit checked out again (a re-run of an old workflow) registers nothing.
    git(project, "checkout", "--quiet", "--detach", story.merges["docs"])
    step(story, "register behind", "make", "register")
    git(project, "checkout", "--quiet", "main")

    # What the deploy workflow asks before deploying: which event, which stage, which tag.
    step(story, "describe assignment", "make", "-s", "describe-tag", "TAG=model#prod#5")
    step(story, "describe registration", "make", "-s", "describe-tag", "TAG=model@v0.1.1")
    step(story, "tag of prod", "make", "-s", "stage-tag", "STAGE=prod")

    # Deploys, from a clone that has none of the project's DVC cache.
    run("git", "clone", "--quiet", str(story.origin), str(story.deployer), cwd=root, env=ENV)
    # What the monitor workflow watches: the version the furthest assigned stage (prod) holds.
    served = run("make", "checkout-served", cwd=story.deployer, env=ENV)
    story.shown["served"] = {"stdout": served.stdout, "head": git(story.deployer, "rev-parse", "HEAD")}
    git(story.deployer, "checkout", "--quiet", "main")
    deploy(story, "deploy rollback", "model#prod#5")
    second = stored_object(story, model_md5_at(story, story.merges["fewer-trees"]))
    original = second.read_bytes()
    second.chmod(0o644)
    second.write_bytes(original + b"tampered")
    deploy(story, "deploy tampered", "model#prod#4")
    second.write_bytes(original)
    deploy(story, "deploy registration tag", "model@v0.1.0")
    deploy(story, "deploy malformed tag", "model#prod")

    # Issue 18: results for another model, and stage tags made by hand (deploy checks the policy).
    merge(story, "stale-results", stale_results(story), "Fewer trees again, model tests not rerun")
    step(story, "register stale", "make", "register")
    merge(story, "weak-model", weak_model, "A weak model")
    step(story, "register weak", "make", "register")
    run("make", "push", cwd=project, env=ENV)
    step(story, "promote stale", "make", "promote", "VERSION=v0.2.0", "STAGE=staging")
    step(story, "promote failed", "make", "promote", "VERSION=v0.3.0", "STAGE=staging")
    step(story, "promote override", "make", "promote", "VERSION=v0.3.0", "STAGE=prod", f"OVERRIDE={OVERRIDE}")
    prod_tag = run("make", "-s", "stage-tag", "STAGE=prod", cwd=project, env=ENV).stdout.strip()
    story.shown["override tag"] = {"tag": prod_tag.removeprefix("tag=")}
    hand_tag(story, "model#prod#20", "model@v0.3.0", "x")
    hand_tag(story, "model#prod#21", story.merges["stale-results"] + "^2", "x")  # the unmerged branch commit
    deploy(story, "deploy failed by hand", "model#prod#20")
    deploy(story, "deploy unregistered by hand", "model#prod#21")
    summary = root / "summary.md"
    deploy(story, "deploy override", story.shown["override tag"]["tag"], GITHUB_STEP_SUMMARY=str(summary))
    story.shown["summary"] = {"text": summary.read_text()}
    step(story, "make history", "make", "history")
    git(story.deployer, "tag", "-d", "model@v0.1.0")
    deploy(story, "deploy deregistered by hand", "model#staging#1", fetch=False)
    return story


def test_each_model_changing_merge_registers_the_next_version_at_its_merge_commit(story):
    tags = origin_tags(story)

    assert "registry: pushed model@v0.1.0 to origin" in story.steps["register first"].stdout
    assert tags["model@v0.1.0"] == story.merges["first-model"]
    assert "registry: pushed model@v0.1.1 to origin" in story.steps["register second"].stdout
    assert tags["model@v0.1.1"] == story.merges["fewer-trees"]
    assert git(story.project, "cat-file", "-t", "model@v0.1.1") == "tag"
    assert git(story.project, "tag", "-l", "--format=%(contents:subject)", "model@v0.1.1").startswith(
        "Register model v0.1.1 (md5 "
    )


def test_a_merge_that_leaves_the_model_alone_registers_nothing(story):
    result = story.steps["register docs"]

    assert result.returncode == 0
    assert "the model is unchanged since v0.1.0" in result.stdout
    assert story.merges["docs"] not in origin_tags(story).values()


def test_a_commit_behind_the_latest_version_is_refused(story):
    result = story.steps["register behind"]
    before, after = story.tags_around["register behind"]

    assert result.returncode != 0
    assert "registry: error: HEAD does not descend from v0.1.1" in result.stderr
    assert after == before


def test_promotions_are_tags_on_origin_and_gto_show_agrees(story):
    tags = origin_tags(story)

    assert story.shown["promoted"]["stage"] == {"dev": None, "staging": "v0.1.1", "prod": "v0.1.1"}
    assert tags["model#staging#3"] == tags["model#prod#4"] == story.merges["fewer-trees"]
    assert tags["model#staging#1"] == tags["model#prod#2"] == story.merges["first-model"]
    assert "model tests passed for v0.1.1" in story.steps["v0.1.1 to prod"].stdout
    assert "│ model  │ v0.1.1   │ -      │ v0.1.1     │ v0.1.1  │" in story.steps["make registry"].stdout


REFUSALS = {
    "prod without staging": (
        "v0.1.1 has never been in staging: promote it to staging first, or override with a reason: OVERRIDE="
    ),
    "unknown version": "model v9.9.9 is not registered (registered versions: v0.1.0, v0.1.1)",
    "unknown stage": "unknown stage 'qa': the stages are dev, staging, prod (see .gto)",
    "malformed version": "'0.1.1' is not a version: expected vMAJOR.MINOR.PATCH",
}


@pytest.mark.parametrize(("name", "message"), REFUSALS.items(), ids=REFUSALS.keys())
def test_a_bad_promotion_is_refused_with_its_reason_and_no_tag(story, name, message):
    result = story.steps[name]
    before, after = story.tags_around[name]

    assert result.returncode != 0
    assert f"registry: error: {message}" in result.stderr
    assert after == before


def test_rollback_assigns_the_previous_version_of_the_stage_again(story):
    result = story.steps["rollback prod"]

    assert "registry: pushed model#prod#5 to origin" in result.stdout
    assert story.shown["rolled back"]["stage"] == {"dev": None, "staging": "v0.1.1", "prod": "v0.1.0"}
    assert origin_tags(story)["model#prod#5"] == story.merges["first-model"]
    assert (
        git(story.project, "tag", "-l", "--format=%(contents:subject)", "model#prod#5")
        == "Roll back prod from v0.1.1 to v0.1.0"
    )


def test_the_monitor_checks_out_the_version_prod_serves(story):
    served = story.shown["served"]

    assert served["head"] == story.merges["first-model"]
    assert "registry: watching v0.1.0, which prod holds (model#prod#5" in served["stdout"]


def test_the_workflows_read_a_tags_event_and_a_stages_tag_as_outputs(story):
    assert story.steps["describe assignment"].stdout == (
        f"event=assignment\nversion=v0.1.0\nstage=prod\ncommit={story.merges['first-model']}\n"
    )
    registration = story.steps["describe registration"].stdout
    assert registration.startswith("event=registration\nversion=v0.1.1\nstage=\n")
    assert story.steps["tag of prod"].stdout == "tag=model#prod#5\n"


def test_deploy_ships_exactly_the_tagged_model_with_its_card_and_metadata(story):
    result = story.steps["deploy rollback"]
    bundle = story.deployer / "build" / "deploy" / "model-v0.1.0-prod"
    metadata = json.loads((bundle / "metadata.json").read_text())
    expected_md5 = model_md5_at(story, story.merges["first-model"])

    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in bundle.iterdir()) == [
        "MODEL_CARD.md",
        "metadata.json",
        "model.json",
        "model.skops",
    ]
    assert metadata["version"] == "v0.1.0"
    assert metadata["stage"] == "prod"
    assert metadata["commit"] == story.merges["first-model"]
    assert metadata["model"]["md5"] == expected_md5
    assert metadata["params"]["model"]["hyperparameters"]["n_estimators"] == 200
    assert set(metadata["metrics"]) >= {"accuracy", "roc_auc"}
    card = (bundle / "MODEL_CARD.md").read_text()
    assert card.startswith("# Model card: model v0.1.0 (prod)")
    assert "All model tests passed." in card
    assert "Roll back prod from v0.1.1 to v0.1.0" in card
    with tarfile.open(story.published / "model@v0.1.0" / "model-v0.1.0-prod.tar.gz") as archive:
        assert "model-v0.1.0-prod/model.skops" in archive.getnames()


def test_a_tampered_model_in_the_remote_is_refused_and_not_bundled(story):
    result = story.steps["deploy tampered"]

    assert result.returncode == 1
    assert "deploy: error: models/model.skops from the DVC remote has md5" in result.stderr
    assert "the stored file is not the registered model, refusing to deploy it" in result.stderr
    assert not (story.deployer / "build" / "deploy" / "model-v0.1.1-prod").exists()
    assert not (story.published / "model@v0.1.1").exists()


SERVE_TAG = f"""
import sys
from {PACKAGE}.serving.loaded import load_tag
print(load_tag(sys.argv[1]).version)
"""


def test_serving_reuses_a_verified_bundle_and_rewrites_a_tampered_one(story):
    """What `make serve` loads for a stage tag: a restart reuses the bundle written before."""
    load = ("uv", "run", "python", "-c", SERVE_TAG, "model#prod#4")
    first = run(*load, cwd=story.deployer, env=ENV)
    bundle = story.deployer / "build" / "serving" / "model-v0.1.1-prod"
    model = bundle / "model.skops"
    written = model.stat().st_mtime_ns

    again = run(*load, cwd=story.deployer, env=ENV)
    reused = model.stat().st_mtime_ns == written
    model.write_bytes(model.read_bytes() + b"tampered")
    after_tampering = run(*load, cwd=story.deployer, env=ENV)

    assert first.stdout == again.stdout == after_tampering.stdout == "v0.1.1\n"
    assert reused
    assert b"tampered" not in model.read_bytes()
    metadata = json.loads((bundle / "metadata.json").read_text())
    assert metadata["tag"] == "model#prod#4"
    assert metadata["model"]["md5"] == model_md5_at(story, story.merges["fewer-trees"])


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("deploy registration tag", "'model@v0.1.0' is not a stage assignment (registration)"),
        ("deploy malformed tag", "'model#prod' is not a registry tag of this repository"),
    ],
)
def test_deploy_refuses_a_tag_that_is_not_a_stage_assignment(story, name, message):
    result = story.steps[name]

    assert result.returncode == 1
    assert f"deploy: error: {message}" in result.stderr


def test_the_registry_commands_leave_the_working_tree_clean(story):
    assert git(story.project, "status", "--porcelain") == ""


def test_metrics_computed_for_another_model_stop_the_model_tests(story):
    result = story.steps["test-model on stale metrics"]

    assert result.returncode != 0
    assert "model-tests: error: reports/metrics.json was computed for another model" in result.stderr
    assert "run `make pipeline` (its evaluate stage) to score this model" in result.stderr


def test_model_tests_computed_for_another_model_refuse_the_promotion(story):
    result = story.steps["promote stale"]
    before, after = story.tags_around["promote stale"]

    assert result.returncode != 0
    assert "registry: error: reports/model_tests.json at " in result.stderr
    assert "describes another model than v0.2.0's (its model md5 is " in result.stderr
    assert "run `make test-model` on that commit and commit reports/model_tests.json" in result.stderr
    assert "model tests passed" not in result.stdout
    assert after == before


def test_failed_model_tests_refuse_the_promotion_unless_overridden(story):
    refused, overridden = story.steps["promote failed"], story.steps["promote override"]
    tag = story.shown["override tag"]["tag"]
    message = git(story.project, "tag", "-l", "--format=%(contents)", tag)

    assert refused.returncode != 0
    assert "the model tests failed for v0.3.0" in refused.stderr
    assert "or override with a reason: OVERRIDE='why'" in refused.stderr
    assert overridden.returncode == 0, overridden.stderr
    assert f"override: {OVERRIDE}\n" in message
    assert "overrides: v0.3.0 has never been in staging" in message
    assert origin_tags(story)[tag] == story.merges["weak-model"]


HAND_MADE = {
    "deploy failed by hand": (
        "v0.3.0",
        ["the model tests failed for v0.3.0", "v0.3.0 has never been in staging: promote it to staging"],
    ),
    "deploy unregistered by hand": ("", ["is not a registered version of this repository"]),
    # Without its registration tag, GTO reads the version as the bare commit.
    "deploy deregistered by hand": ("", ["is not a registered version of this repository"]),
}


@pytest.mark.parametrize(("name", "expected"), HAND_MADE.items(), ids=HAND_MADE.keys())
def test_deploy_refuses_a_hand_made_tag_that_breaks_the_policy_and_bundles_nothing(story, name, expected):
    result = story.steps[name]
    version, reasons = expected

    assert result.returncode == 1, result.stdout
    assert "breaks the promotion policy, refusing to deploy it" in result.stderr
    for reason in reasons:
        assert reason in result.stderr
    assert "verified and bundled" not in result.stdout
    before, after = story.bundles_around[name]
    assert after == before
    if version:
        assert f"{version}" in result.stderr


def test_an_override_in_the_tag_message_deploys_and_is_shown_in_the_output_summary_and_history(story):
    result = story.steps["deploy override"]
    tag = story.shown["override tag"]["tag"]

    assert result.returncode == 0, result.stderr
    assert f"deploy: OVERRIDE of the promotion policy by the tag message: {OVERRIDE}" in result.stdout
    assert "overridden: the model tests failed for v0.3.0" in result.stdout
    assert (story.published / "model@v0.3.0" / "model-v0.3.0-prod.tar.gz").exists()
    assert f"**Override** of the promotion policy: {OVERRIDE}" in story.shown["summary"]["text"]
    history = story.steps["make history"]
    assert history.returncode == 0, history.stderr
    assert f"| {tag} |" in history.stdout
    assert f"OVERRIDE: {OVERRIDE}" in history.stdout
    assert f"assignment(s) overrode the promotion policy: {tag}" in history.stdout


def test_every_result_names_the_model_and_data_it_was_computed_for(story):
    commit = story.merges["weak-model"]
    provenance = json.loads(git(story.project, "show", f"{commit}:reports/metrics_provenance.json"))

    assert provenance["computed_for"]["model"]["md5"] == model_md5_at(story, commit)
    metrics = json.loads(git(story.project, "show", f"{commit}:reports/metrics.json"))
    assert all(isinstance(value, float) for value in metrics.values())
