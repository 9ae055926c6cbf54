"""The model registry: GTO's git tags, with this project's rules for registering and promoting.

Commands `registry register|promote|rollback|describe|current|history`. Every tag is annotated
and pushed to `origin`, so the registry and its audit trail are plain git: `gto show`,
`gto history` or `git tag -n` read them anywhere. The rules a stage assignment must keep are
in promotion_policy.py, which deploy checks again.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

from gto import api as gto
from gto.base import BaseEvent
from gto.exceptions import GTOException

from ..config import LOCAL, ROLLING, ServingParams, load_params
from ..errors import PipelineError
from ..outputs import markdown_table
from ..repo.git import git, has_remote, is_ancestor, push_tag, resolve
from .artifact import ARTIFACT, artifact_path, recorded_md5
from .policy import (
    PROMOTE,
    Event,
    Violation,
    committed_results,
    explain,
    override_reason,
    registrations,
    results_violations,
    rollout_state,
    violations,
)

BUMPS = ("major", "minor", "patch")
DEFAULT_BUMP = "minor"
BUMP_LABEL = re.compile(r"model:(major|minor|patch)")
VERSION = re.compile(r"v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
# Committed by the model tests; promotion reads it at the version's own commit.
MODEL_TESTS_REPORT = "reports/model_tests.json"
# Rollback tags say so in their message, which is how a later rollback knows to go further back.
ROLLBACK = "Roll back"


@contextmanager
def gto_errors() -> Iterator[None]:
    """Report GTO's own refusals as ours."""
    try:
        yield
    except GTOException as error:
        raise PipelineError(error.msg) from error


def registry_events() -> list[Event]:
    """Every registration and assignment of the model, oldest first."""
    with gto_errors():
        history = gto.history(".", ARTIFACT, ascending=True)
    found = [
        Event(
            kind=entry["event"],
            version=entry["version"],
            stage=entry["stage"],
            commit=entry["commit"],
            tag=entry["ref"],
            message=entry["message"].strip(),
            timestamp=entry["timestamp"],
        )
        for entry in history
        if entry["event"] in {"registration", "assignment"}
    ]
    return sorted(found, key=lambda event: (event.timestamp, event.counter))


def promotion_order() -> list[str]:
    """The stages .gto allows, in promotion order."""
    with gto_errors():
        stages = list(gto.get_stages(".", allowed=True))
    if not stages:
        raise PipelineError(".gto lists no stages: add `stages: [dev, staging, prod]`")
    return stages


def known_stages(stage: str) -> list[str]:
    """The stages .gto allows, in promotion order, provided that `stage` is one of them."""
    stages = promotion_order()
    if stage not in stages:
        raise PipelineError(f"unknown stage '{stage}': the stages are {', '.join(stages)} (see .gto)")
    return stages


def known_serving(serving: ServingParams | None = None) -> ServingParams:
    """params.yaml's serving section, once every stage and candidate its `stages` name is one .gto
    knows, or `local`: a typo would otherwise leave a stage served recreate, unnoticed."""
    serving = serving or load_params().serving
    stages = promotion_order()
    known = f"the stages are {', '.join(stages)} (see .gto), or `{LOCAL}` for the working copy"
    for name, settings in serving.stages.items():
        if name not in (*stages, LOCAL):
            raise PipelineError(f"serving.stages.{name}: no such stage: {known}")
        if settings.candidate is not None and settings.candidate not in (*stages, LOCAL):
            raise PipelineError(f"serving.stages.{name}.candidate: no stage '{settings.candidate}': {known}")
    return serving


def version_key(version: str) -> tuple[int, int, int]:
    """A version's numbers, for ordering; anything but vMAJOR.MINOR.PATCH is refused."""
    matched = VERSION.fullmatch(version)
    if not matched:
        raise PipelineError(f"'{version}' is not a version: expected vMAJOR.MINOR.PATCH, for example v0.1.0")
    major, minor, patch = (int(part) for part in matched.groups())
    return major, minor, patch


def next_version(latest: str | None, bump: str) -> str:
    """The version after `latest` (v0.0.0 when nothing is registered yet)."""
    major, minor, patch = version_key(latest) if latest else (0, 0, 0)
    bumped = {
        "major": (major + 1, 0, 0),
        "minor": (major, minor + 1, 0),
        "patch": (major, minor, patch + 1),
    }[bump]
    return "v{}.{}.{}".format(*bumped)


def chosen_bump(explicit: str | None, labels: str) -> str:
    """The bump asked for explicitly, else by one `model:<bump>` pull-request label, else minor."""
    if explicit:
        if explicit not in BUMPS:
            raise PipelineError(f"bump '{explicit}' is not one of: {', '.join(BUMPS)}")
        return explicit
    names = [name.strip() for name in re.split(r"[,\n]", labels)]
    asked = sorted({matched.group(1) for name in names if (matched := BUMP_LABEL.fullmatch(name))})
    if len(asked) > 1:
        conflicting = ", ".join(f"model:{bump}" for bump in asked)
        raise PipelineError(f"the pull request has conflicting labels {conflicting}: keep one")
    return asked[0] if asked else DEFAULT_BUMP


def stage_lineage(events: list[Event], stage: str) -> list[str]:
    """The versions that held a stage, oldest first, without those rolled back since."""
    held: list[str] = []
    for event in events:
        if event.kind != "assignment" or event.stage != stage:
            continue
        if event.message.startswith(ROLLBACK) and held:
            held.pop()
        if not held or held[-1] != event.version:
            held.append(event.version)
    return held


def check_model_tests(version: str, commit: str) -> None:
    """Refuse a version whose committed model tests did not pass for exactly its model and data."""
    found = results_violations(version, commit, committed_results(commit))
    if found:
        raise PipelineError(explain(found))
    print(f"registry: model tests passed for {version} (read from {MODEL_TESTS_REPORT} at {commit[:7]})")


def wait_past(events: list[Event]) -> None:
    """GTO orders tags by time to the second: never write two within the same second."""
    if events:
        remaining = int(events[-1].timestamp.timestamp()) + 1 - time.time()
        time.sleep(min(1.0, max(0.0, remaining)))


def publish(tag: str) -> None:
    """Push a new tag to origin, or say that it stays local."""
    if has_remote():
        push_tag(tag)
        print(f"registry: pushed {tag} to origin")
    else:
        print(f"registry: no 'origin' remote, {tag} stays local (push it with `git push origin '{tag}'`)")


def register(bump: str) -> str | None:
    """Register HEAD as the next version if its model differs from the latest registered one."""
    head = resolve("HEAD")
    path = artifact_path(head)
    md5 = recorded_md5(head, path)
    if md5 is None:
        raise PipelineError(
            f"dvc.lock at HEAD records no md5 for {path}: run `make pipeline` and commit dvc.lock"
        )
    events = registry_events()
    registered = registrations(events)
    latest = max(registered.values(), key=lambda event: version_key(event.version), default=None)
    if latest:
        if latest.commit == head:
            print(f"registry: HEAD is already registered as {latest.version}: nothing to register")
            return None
        if not is_ancestor(latest.commit, head):
            raise PipelineError(
                f"HEAD does not descend from {latest.version} (commit {latest.commit[:7]}): "
                "register on main, after the latest registered version"
            )
        if recorded_md5(latest.commit, artifact_path(latest.commit)) == md5:
            print(f"registry: the model is unchanged since {latest.version} (md5 {md5}): nothing to register")
            return None
    version = next_version(latest.version if latest else None, bump)
    wait_past(events)
    with gto_errors():
        event = gto.register(
            ".", ARTIFACT, "HEAD", version=version, message=f"Register {ARTIFACT} {version} (md5 {md5})"
        )
    publish(event.tag)
    return version


def assign(version: str, stage: str, message: str, events: list[Event]) -> None:
    """Write and push the assignment tag (forced in GTO's terms: our own rules have been checked)."""
    wait_past(events)
    with gto_errors():
        event = gto.assign(".", ARTIFACT, stage, version=version, message=message, force=True)
    publish(event.tag)


def promote(version: str, stage: str, override: str | None) -> None:
    """Assign a registered, tested version to a stage, in promotion order, unless overridden with a reason."""
    version_key(version)
    stages = known_stages(stage)
    events = registry_events()
    registered = registrations(events)
    if version not in registered:
        listed = ", ".join(registered) or "none yet"
        raise PipelineError(f"{ARTIFACT} {version} is not registered (registered versions: {listed})")
    lineage = stage_lineage(events, stage)
    if lineage and lineage[-1] == version:
        print(f"registry: {version} is already in {stage}: nothing to do")
        return
    strategy = known_serving().stage(stage).strategy
    refuse_during_rollout(events, stage, strategy)
    commit = registered[version].commit
    found = violations(events, stages, version, stage, commit, committed_results(commit))
    message = f"{PROMOTE} {version} to {stage}"
    if found:
        fixed = [violation for violation in found if not violation.overridable]
        if fixed or not override:
            hint = "" if fixed else ", or override with a reason: OVERRIDE='why' (the tag message records it)"
            raise PipelineError(explain(fixed or found) + hint)
        message += overridden_note(override, found)
        print(f"registry: OVERRIDE ({override}) of: {explain(found)}")
    else:
        print(f"registry: model tests passed for {version} (read from {MODEL_TESTS_REPORT} at {commit[:7]})")
    assign(version, stage, message, events)
    if strategy in ROLLING and lineage:
        print(
            f"registry: {stage} is served {strategy} (serving.stages.{stage}.strategy): {version} is its "
            f"candidate beside {lineage[-1]} until `make rollout-finish STAGE={stage}`"
        )


def refuse_during_rollout(events: list[Event], stage: str, strategy: str) -> None:
    """Under a rolling strategy a stage rolls out one candidate at a time."""
    rollout = rollout_state(events, stage)
    if strategy in ROLLING and rollout is not None and rollout.candidate is not None:
        raise PipelineError(
            f"{stage} is rolling out {rollout.candidate.version} ({rollout.primary.version} is primary): "
            f"finish it (`make rollout-finish STAGE={stage}`) "
            f"or roll it back (`make rollback STAGE={stage}`) "
            "before promoting another version"
        )


def overridden_note(reason: str, found: list[Violation]) -> str:
    """The tag message's body: the documented `override:` line, then each rule it overrides."""
    reason = " ".join(reason.split())
    if not reason:
        raise PipelineError("an override needs a reason: OVERRIDE='why this version may skip the policy'")
    return f"\n\noverride: {reason}\n" + "".join(f"overrides: {violation.reason}\n" for violation in found)


def rollback(stage: str) -> None:
    """Assign the stage's previous version again."""
    known_stages(stage)
    events = registry_events()
    lineage = stage_lineage(events, stage)
    if len(lineage) < 2:
        held = lineage[-1] if lineage else "nothing"
        raise PipelineError(f"{stage} has no previous version to roll back to (it holds {held})")
    current, previous = lineage[-1], lineage[-2]
    assign(previous, stage, f"{ROLLBACK} {stage} from {current} to {previous}", events)


def tag_event(tag: str) -> BaseEvent:
    """The registry event a tag records; a tag GTO cannot read as one of the model's is refused."""
    with gto_errors():
        events = gto.check_ref(".", tag)
    if not events:
        raise PipelineError(
            f"'{tag}' is not a registry tag of this repository: expected a stage assignment such as "
            f"'{ARTIFACT}#prod#3' or a version such as '{ARTIFACT}@v0.1.0' (see `gto history`)"
        )
    if events[0].artifact != ARTIFACT:
        raise PipelineError(f"'{tag}' is about artifact '{events[0].artifact}', not '{ARTIFACT}'")
    return events[0]


def describe(tag: str) -> None:
    """Print what a tag records as key=value lines, which a workflow appends to $GITHUB_OUTPUT."""
    event = tag_event(tag)
    print(f"event={event.event}")
    print(f"version={event.version}")
    print(f"stage={getattr(event, 'stage', '')}")
    print(f"commit={event.commit_hexsha}")


def current(stage: str) -> None:
    """Print the tag that assigned the stage its current version, as `tag=...`."""
    assignments = [
        event for event in registry_events() if event.kind == "assignment" and event.stage == stage
    ]
    if not assignments:
        raise PipelineError(f"no version has been assigned to {stage}")
    print(f"tag={assignments[-1].tag}")


def checkout_served() -> None:
    """Check out the commit of the version the furthest stage holds, so the monitor watches what is served."""
    with gto_errors():
        stages = list(gto.get_stages(".", allowed=True))
    current_by_stage = {event.stage: event for event in registry_events() if event.kind == "assignment"}
    served = next((current_by_stage[stage] for stage in reversed(stages) if stage in current_by_stage), None)
    if served is None:
        print("registry: no version is assigned to a stage yet: watching this checkout's model")
        return
    git("checkout", "--quiet", "--detach", served.commit)
    held = f"{served.stage} holds ({served.tag}, {served.commit[:7]})"
    print(f"registry: watching {served.version}, which {held}")


def history() -> None:
    """The audit trail: every registration and assignment, who made it, and any override of the policy."""
    with gto_errors():
        entries = gto.history(".", ARTIFACT, ascending=True)
    rows = []
    for entry in entries:
        if entry["event"] not in {"registration", "assignment", "unassignment", "deregistration"}:
            continue
        message = entry["message"].strip()
        reason = override_reason(message)
        rows.append(
            [
                entry["timestamp"].strftime("%Y-%m-%d %H:%M:%S"),
                entry["event"],
                entry["version"],
                entry.get("stage") or "",
                entry["ref"],
                entry.get("author") or "",
                f"OVERRIDE: {reason}" if reason else message.splitlines()[0] if message else "",
            ]
        )
    print(markdown_table(["when", "event", "version", "stage", "tag", "by", "message"], rows), end="")
    overridden = [row for row in rows if row[-1].startswith("OVERRIDE: ")]
    if overridden:
        print(
            f"\n{len(overridden)} assignment(s) overrode the promotion policy: "
            + ", ".join(row[4] for row in overridden)
        )


def parser() -> argparse.ArgumentParser:
    """Sub-commands of `registry`."""
    root = argparse.ArgumentParser(prog=f"python -m {__package__} registry", description=__doc__)
    commands = root.add_subparsers(dest="action", required=True, metavar="action")
    adding = commands.add_parser("register", help="Register HEAD's model as a new version if it changed.")
    adding.add_argument("--bump", choices=BUMPS, default=os.environ.get("MODEL_BUMP") or None)
    adding.add_argument(
        "--labels",
        default=os.environ.get("PR_LABELS", ""),
        help="the merged pull request's labels, comma-separated: model:major|minor|patch picks the bump",
    )
    promoting = commands.add_parser("promote", help="Assign a registered version to a stage.")
    promoting.add_argument("version", help="vMAJOR.MINOR.PATCH")
    promoting.add_argument("stage")
    promoting.add_argument(
        "--force",
        metavar="REASON",
        help="override the policy (stage order, model tests); the tag message records the reason",
    )
    rolling = commands.add_parser("rollback", help="Assign a stage's previous version again.")
    rolling.add_argument("stage")
    describing = commands.add_parser("describe", help="Print what a registry tag records (key=value).")
    describing.add_argument("tag")
    commands.add_parser("history", help="Print the audit trail, overrides of the promotion policy included.")
    commands.add_parser("checkout-served", help="Check out the version the furthest assigned stage holds.")
    naming = commands.add_parser("current", help="Print the tag of a stage's current assignment.")
    naming.add_argument("stage")
    return root


def main(argv: list[str]) -> None:
    arguments = parser().parse_args(argv)
    if arguments.action == "register":
        register(chosen_bump(arguments.bump, arguments.labels))
    elif arguments.action == "promote":
        promote(arguments.version, arguments.stage, arguments.force)
    elif arguments.action == "rollback":
        rollback(arguments.stage)
    elif arguments.action == "history":
        history()
    elif arguments.action == "checkout-served":
        checkout_served()
    elif arguments.action == "describe":
        describe(arguments.tag)
    else:
        current(arguments.stage)
