"""Deploy a stage tag: fetch exactly that version's model, verify it, bundle it, publish it.

Command `deploy 'model#prod#3'`. The model comes from the DVC remote at the version's commit (with
no remote: the GitHub Release of the version, see model_release.py) and must match the md5
dvc.lock recorded there; the bundle (model, its description, model card,
metadata.json) goes to a publisher script, by default a GitHub Release asset.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gto.base import Assignment

from ..errors import PipelineError
from ..outputs import json_text
from ..repo.dvc import default_remote, dvc_reason
from ..repo.git import file_at, git
from ..tables import file_md5
from .artifact import ARTIFACT, artifact_path, committed_yaml, recorded_md5
from .model_card import CardFacts, render
from .policy import Violation, committed_results, explain, override_reason, violations
from .release import fetch_release_asset
from .versions import MODEL_TESTS_REPORT, known_stages, registry_events, tag_event

BUNDLES = Path("build/deploy")
DEFAULT_PUBLISHER = "scripts/publish_github_release.sh"
# Reports other stages commit, shown in the card when the version's commit has them.
CARD_REPORTS = {
    "Model tests": MODEL_TESTS_REPORT.removesuffix(".json") + ".md",
    "Data validation": "reports/validation.md",
    "Drift": "reports/drift/drift.md",
}


@dataclass(frozen=True)
class Assigned:
    """The stage assignment a deploy acts on."""

    tag: str
    version: str
    stage: str
    commit: str


def read_tag(tag: str) -> Assigned:
    """The stage assignment a tag records; any other registry tag is refused."""
    event = tag_event(tag)
    if not isinstance(event, Assignment):
        raise PipelineError(
            f"'{tag}' is not a stage assignment ({event.event}): "
            f"deploy takes a tag such as '{ARTIFACT}#prod#3'"
        )
    return Assigned(tag=tag, version=event.version, stage=event.stage, commit=event.commit_hexsha)


def dvc_get(commit: str, path: str, destination: Path) -> str | None:
    """Download a DVC-tracked file as it was at a commit with `dvc get`; DVC's reason if it cannot."""
    result = subprocess.run(  # noqa: S603 - our own interpreter running DVC, no shell
        [sys.executable, "-m", "dvc", "get", ".", path, "--rev", commit, "--out", str(destination)],
        capture_output=True,
        text=True,
        check=False,
    )
    return None if result.returncode == 0 else dvc_reason(result.stderr)


def fetch(commit: str, path: str, destination: Path, version_tag: str) -> str:
    """Fetch a file of a version from where it is kept; return where that was.

    With a DVC remote configured at the version's commit: that remote, as ever. Without one:
    this machine's DVC (its cache, or a remote .dvc/config.local adds), else the GitHub Release
    on the registration tag, to which main's workflow attached the model.
    """
    remote = default_remote(file_at(commit, ".dvc/config"))
    if remote:
        reason = dvc_get(commit, path, destination)
        if reason:
            raise PipelineError(
                f"could not fetch {path} at {commit[:7]} from the DVC remote '{remote}': {reason}"
            )
        return "the DVC remote"
    local = dvc_get(commit, path, destination)
    if local is None:
        return "the local DVC cache"
    try:
        fetch_release_asset(version_tag, path, destination)
    except PipelineError as error:
        raise PipelineError(
            f"could not fetch {path} at {commit[:7]}: that commit configures no DVC remote, this machine's "
            f"DVC cache does not hold it ({local}), and {error}. Configure a DVC remote "
            "(`uv run dvc remote add --default storage URL`, then `make push`), or let the main workflow "
            f"attach the model to the release {version_tag} (it needs GITHUB_REPOSITORY and a token here)"
        ) from error
    return f"the GitHub release {version_tag}"


def copy_from_cache(md5: str, destination: Path) -> bool:
    """Copy the file with this md5 from this machine's DVC cache, if it holds it.

    The cache stores files by md5, so the version a commit recorded is found without the
    checkout at that commit that  makes (a second or more per file).
    """
    from dvc.exceptions import NotDvcRepoError
    from dvc.repo import Repo

    try:
        with Repo(".") as repo:
            cached = Path(repo.cache.local.oid_to_path(md5))
    except NotDvcRepoError:
        return False
    if not cached.is_file():
        return False
    shutil.copyfile(cached, destination)
    return True


def fetch_verified(commit: str, path: str, destination: Path, version_tag: str) -> str:
    """Fetch a file and refuse it unless its md5 is the one dvc.lock recorded at that commit."""
    expected = recorded_md5(commit, path)
    if expected is None:
        raise PipelineError(f"dvc.lock at {commit[:7]} records no md5 for {path}")
    if copy_from_cache(expected, destination):
        source = "the local DVC cache"
    else:
        source = fetch(commit, path, destination, version_tag)
    actual = file_md5(destination)
    if actual != expected:
        raise PipelineError(
            f"{path} from {source} has md5 {actual}, but dvc.lock at {commit[:7]} records {expected}: "
            "the stored file is not the registered model, refusing to deploy it"
        )
    return actual


def committed_json(commit: str, path: str) -> dict:
    """A JSON file as committed, or an empty mapping."""
    text = file_at(commit, path)
    return json.loads(text) if text else {}


def card_facts(assigned: Assigned, model_path: str, md5: str, size: int, description: dict) -> CardFacts:
    """Read what the card shows from the version's commit and the registry."""
    params = committed_yaml(assigned.commit, "params.yaml")
    declared = committed_yaml(assigned.commit, "dvc.yaml")["artifacts"][ARTIFACT]
    history = [
        {
            "timestamp": event.timestamp.strftime("%Y-%m-%d %H:%M:%S"),
            "event": event.kind,
            "version": event.version,
            "stage": event.stage or "",
            "tag": event.tag,
            "message": event.message,
        }
        for event in registry_events()
    ]
    return CardFacts(
        name=ARTIFACT,
        description=declared.get("desc", ""),
        version=assigned.version,
        stage=assigned.stage,
        tag=assigned.tag,
        commit=assigned.commit,
        model_path=model_path,
        md5=md5,
        size=size,
        params=params,
        metrics=committed_json(assigned.commit, params["paths"]["metrics"]),
        model_description=description,
        reports={title: file_at(assigned.commit, path) for title, path in CARD_REPORTS.items()},
        history=history,
    )


def bundle_dir(assigned: Assigned, root: Path) -> Path:
    """Where the bundle of a stage assignment is written: `<root>/model-<version>-<stage>`."""
    return root / f"{ARTIFACT}-{assigned.version}-{assigned.stage}"


def holds_bundle(bundle: Path, assigned: Assigned) -> bool:
    """Whether a bundle written earlier is this assignment's, its model file still the md5 that
    dvc.lock records at the assignment's commit."""
    try:
        metadata = json.loads((bundle / "metadata.json").read_text(encoding="utf-8"))
        model = metadata["model"]
        held = file_md5(bundle / model["file"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return (
        metadata.get("tag") == assigned.tag
        and metadata.get("commit") == assigned.commit
        and held == model.get("md5") == recorded_md5(assigned.commit, model.get("path", ""))
    )


def write_bundle(assigned: Assigned, root: Path) -> Path:
    """Write the bundle directory: the verified model, its description, card and metadata."""
    model_path = artifact_path(assigned.commit)
    described_path = committed_yaml(assigned.commit, "params.yaml")["paths"]["model_metadata"]
    target = bundle_dir(assigned, root)
    root.mkdir(parents=True, exist_ok=True)
    # Built aside and moved into place only once verified, so a refused model leaves no bundle.
    with tempfile.TemporaryDirectory(prefix=".bundle-", dir=root) as work:
        bundle = Path(work) / target.name
        bundle.mkdir()
        model_file = bundle / Path(model_path).name
        version_tag = f"{ARTIFACT}@{assigned.version}"
        md5 = fetch_verified(assigned.commit, model_path, model_file, version_tag)
        fetch_verified(assigned.commit, described_path, bundle / Path(described_path).name, version_tag)
        description = json.loads((bundle / Path(described_path).name).read_text(encoding="utf-8"))
        facts = card_facts(assigned, model_path, md5, model_file.stat().st_size, description)
        (bundle / "MODEL_CARD.md").write_text(render(facts), encoding="utf-8")
        metadata = {
            "name": ARTIFACT,
            "version": assigned.version,
            "stage": assigned.stage,
            "tag": assigned.tag,
            "commit": assigned.commit,
            "model": {"file": model_file.name, "path": model_path, "md5": md5, "size": facts.size},
            "metrics": facts.metrics,
            "params": facts.params,
        }
        (bundle / "metadata.json").write_text(json_text(metadata), encoding="utf-8")
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(bundle, target)
    return target


def pack(bundle: Path) -> Path:
    """The bundle as a .tar.gz beside it: the file the publisher attaches to the release."""
    archive = bundle.parent / f"{bundle.name}.tar.gz"
    with tarfile.open(archive, "w:gz") as packed:
        packed.add(bundle, arcname=bundle.name)
    return archive


def publish(publisher: str, archive: Path, assigned: Assigned) -> None:
    """Hand the bundle to the publisher script: `PUBLISHER ARCHIVE VERSION_TAG MODEL_CARD`."""
    card = archive.parent / archive.name.removesuffix(".tar.gz") / "MODEL_CARD.md"
    version_tag = f"{ARTIFACT}@{assigned.version}"
    try:
        result = subprocess.run([publisher, str(archive), version_tag, str(card)], check=False)  # noqa: S603
    except OSError as error:
        raise PipelineError(f"the publisher {publisher} cannot run: {error}") from error
    if result.returncode != 0:
        raise PipelineError(f"the publisher {publisher} failed (exit {result.returncode})")


def tag_message(tag: str) -> str:
    """The full message of an annotated tag (empty for a lightweight one)."""
    return git("tag", "--list", "--format=%(contents)", tag).strip()


def summarize(lines: list[str]) -> None:
    """Append to the workflow run's summary when there is one (GitHub Actions sets the variable)."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with Path(summary).open("a", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n\n")


def check_policy(assigned: Assigned) -> str | None:
    """Refuse a tag that breaks the promotion policy, unless its message overrides it; return the override."""
    events = registry_events()
    position = next((index for index, event in enumerate(events) if event.tag == assigned.tag), len(events))
    found = violations(
        events[:position],
        known_stages(assigned.stage),
        assigned.version,
        assigned.stage,
        assigned.commit,
        committed_results(assigned.commit),
    )
    reason = override_reason(tag_message(assigned.tag))
    heading = f"## Deploy {assigned.tag}: {ARTIFACT} {assigned.version} to {assigned.stage}"
    fixed = [violation for violation in found if not violation.overridable]
    if fixed or (found and not reason):
        summarize([heading, "", "❌ Refused by the promotion policy:", "", *bullets(found)])
        hint = (
            ""
            if fixed
            else "\n(an assignment made on purpose says so in its tag message: a line `override: <reason>`, "
            "as `make promote ... OVERRIDE='reason'` writes)"
        )
        raise PipelineError(
            f"'{assigned.tag}' breaks the promotion policy, refusing to deploy it:\n  {explain(found)}{hint}"
        )
    if found:
        print(f"deploy: OVERRIDE of the promotion policy by the tag message: {reason}")
        for violation in found:
            print(f"deploy:   overridden: {violation.reason}")
        summarize([heading, "", f"⚠️ **Override** of the promotion policy: {reason}", "", *bullets(found)])
        return reason
    print(
        f"deploy: {assigned.tag} keeps the promotion policy "
        "(registered, model tests passed for its model, stage order)"
    )
    summarize([heading, "", "✅ Registered, model tests passed for this model and data, stage order kept."])
    return None


def bullets(found: list[Violation]) -> list[str]:
    return [f"- {violation.rule}: {violation.reason}" for violation in found]


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog=f"python -m {__package__} deploy", description=__doc__)
    root.add_argument("tag", help=f"a stage assignment tag, such as '{ARTIFACT}#prod#3'")
    root.add_argument(
        "--publisher",
        default=os.environ.get("MODEL_PUBLISHER") or DEFAULT_PUBLISHER,
        help="the script that publishes the bundle (default: $MODEL_PUBLISHER, else %(default)s)",
    )
    root.add_argument("--bundle-only", action="store_true", help="build the bundle, do not publish it")
    return root


def main(argv: list[str]) -> None:
    arguments = parser().parse_args(argv)
    assigned = read_tag(arguments.tag)
    override = check_policy(assigned)
    archive = pack(write_bundle(assigned, BUNDLES))
    print(f"deploy: {ARTIFACT} {assigned.version} for {assigned.stage} verified and bundled in {archive}")
    if not arguments.bundle_only:
        publish(arguments.publisher, archive, assigned)
        print(f"deploy: published with {arguments.publisher}")
    if override:
        print(f"deploy: deployed under an override of the promotion policy: {override}")
