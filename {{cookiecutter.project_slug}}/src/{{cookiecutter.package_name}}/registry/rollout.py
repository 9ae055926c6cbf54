"""Command `rollout finish|reload`: end a stage's rollout, and tell a running server.

Under canary, ab or shadow a promotion does not replace a stage's version at once: the version
promoted is the candidate, and the one the stage held before stays primary (policy.py's
`rollout_state`). `finish` assigns the candidate again, with a message that says so, once
`make rollout-report` passed for exactly these two versions; `make rollback` assigns the primary
again. The registry's tags are the whole state: a server reads them when it starts and again
on `POST /router/reload`, which only its own machine may call; `reload` is that call.
"""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.request
from pathlib import Path

from ..config import ROLLING, load_params
from ..errors import PipelineError
from .policy import explain, override_reason, rollout_state, rollout_violations

FINISH = "Finish rollout"
REPORT_FILE = "rollout.json"
RELOAD_SECONDS = 120  # loading a version fetches and verifies its model first


def rolling(stage: str) -> None:
    """Refuse a stage whose strategy replaces its version at once: it has no rollout."""
    from .versions import known_serving  # GTO: not for `reload`

    strategy = known_serving().stage(stage).strategy
    if strategy not in ROLLING:
        raise PipelineError(
            f"{stage} is served {strategy} (serving.stages.{stage}.strategy): a promotion replaces its "
            f"version at once, so there is no rollout to report on or finish; {', '.join(ROLLING)} roll out"
        )


def finish(stage: str, report_dir: Path, override: str | None) -> str:
    """Make the stage's candidate its primary, if its rollout report passed; return the version."""
    from .versions import assign, known_stages, overridden_note, registry_events  # GTO: not for `reload`

    known_stages(stage)
    rolling(stage)
    events = registry_events()
    rollout = rollout_state(events, stage)
    if rollout is None or rollout.candidate is None:
        held = rollout.primary.version if rollout else "nothing"
        raise PipelineError(f"{stage} has no rollout in progress: it holds {held} alone")
    report = report_dir / REPORT_FILE
    found = rollout_violations(
        report.read_text(encoding="utf-8") if report.is_file() else None, str(report), rollout
    )
    version = rollout.candidate.version
    message = f"{FINISH} of {version} in {stage} (primary until now: {rollout.primary.version})"
    if found and not override:
        raise PipelineError(explain(found) + ", or override with a reason: OVERRIDE='why'")
    if found and override:
        message += overridden_note(override, found)
        print(f"rollout: OVERRIDE ({override}) of: {explain(found)}")
    elif reason := override_reason(rollout.candidate.message):
        # The promotion overrode the policy: deploy reads this tag's message, so it carries the reason.
        message += f"\n\noverride: {reason}\n"
    assign(version, stage, message, events)
    print(f"rollout: {version} is primary in {stage}")
    return version


def reload(port: int) -> None:
    """Ask the server on this machine's port to load the slots the registry now says."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/router/reload", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=RELOAD_SECONDS) as answer:  # noqa: S310 - http, loopback
            state = json.loads(answer.read())
    except urllib.error.HTTPError as error:
        raise PipelineError(
            f"the server on port {port} refused to reload: {error.read().decode()}"
        ) from error
    except OSError:
        print(f"rollout: no server is listening on 127.0.0.1:{port}: the next `make serve` serves the change")
        return
    slots = ", ".join(f"{role} {version}" for role, version in state["slots"].items())
    print(f"rollout: the server on port {port} reloaded: {slots}")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog=f"python -m {__package__.rsplit('.', 1)[0]} rollout", description=__doc__
    )
    commands = root.add_subparsers(dest="action", required=True, metavar="action")
    finishing = commands.add_parser("finish", help="Make a stage's candidate primary (its report passed).")
    finishing.add_argument("stage")
    finishing.add_argument(
        "--force", metavar="REASON", help="finish without a passing report; the tag records why"
    )
    reloading = commands.add_parser("reload", help="Tell the server on this machine to reload its slots.")
    reloading.add_argument("--port", type=int, help="default: serving.port")
    return root


def main(argv: list[str]) -> None:
    arguments = parser().parse_args(argv)
    settings = load_params().serving
    if arguments.action == "finish":
        finish(arguments.stage, settings.rollout.report, arguments.force)
    else:
        reload(arguments.port or settings.port)
