"""The one open GitHub issue labelled "drift", which the monitor workflow keeps up to date.

Command `drift-issue previous FILE | publish FILE`:

- `previous FILE`: write the open drift issue's body to FILE (remove FILE when none is open),
  for `monitor --previous-issue FILE`, so that "drifting since" keeps the date drift was
  first seen instead of restarting every run.
- `publish FILE`: put FILE as that issue's body, or open the issue, labelled "drift", when
  none is open. There is never a second one.

Through the REST client of repo/github.py (GITHUB_REPOSITORY, GITHUB_TOKEN or GH_TOKEN).
"""

from __future__ import annotations

import argparse
import urllib.parse
from pathlib import Path

from ..errors import PipelineError
from ..outputs import atomic_path
from ..repo.github import GitHub, GitHubError

LABEL = "drift"
LABEL_COLOR = "D93F0B"
TITLE = "Data drift in production"
ALREADY_EXISTS = 422


def open_drift_issue(github: GitHub) -> dict | None:
    """The open issue labelled "drift" (the oldest, should there be several), if any."""
    query = urllib.parse.urlencode({"labels": LABEL, "state": "open", "per_page": 10})
    issues = [issue for issue in github.json("GET", f"/issues?{query}") or [] if "pull_request" not in issue]
    return min(issues, key=lambda issue: issue["number"], default=None)


def create_label(github: GitHub) -> None:
    """The "drift" label, with its colour and description, unless the repository has it already."""
    label = {"name": LABEL, "color": LABEL_COLOR, "description": "Production data drifted"}
    try:
        github.json("POST", "/labels", label)
    except GitHubError as error:
        if error.status != ALREADY_EXISTS:
            raise


def publish(github: GitHub, body: str) -> tuple[int, bool]:
    """Update the open drift issue's body, or open it; return its number and whether it is new."""
    existing = open_drift_issue(github)
    if existing is not None:
        number = int(existing["number"])
        github.json("PATCH", f"/issues/{number}", {"body": body})
        return number, False
    create_label(github)
    issue = github.json("POST", "/issues", {"title": TITLE, "body": body, "labels": [LABEL]})
    return int(issue["number"]), True


def write_previous(github: GitHub, destination: Path) -> int | None:
    """Write the open drift issue's body to `destination` (removed when none is open); its number."""
    issue = open_drift_issue(github)
    if issue is None:
        destination.unlink(missing_ok=True)
        return None
    with atomic_path(destination) as temporary:
        temporary.write_text(issue.get("body") or "", encoding="utf-8")
    return int(issue["number"])


def main(argv: list[str]) -> int:
    command = argparse.ArgumentParser(prog="drift-issue", description=__doc__.splitlines()[0])
    command.add_argument("action", choices=["previous", "publish"])
    command.add_argument("file", type=Path, help="previous: where to write the body; publish: the body")
    arguments = command.parse_args(argv)
    github = GitHub.from_env()
    if arguments.action == "previous":
        number = write_previous(github, arguments.file)
        found = f"#{number} is open: its date of first drift carries over" if number else "none is open"
        print(f"drift-issue: {found}")
        return 0
    if not arguments.file.is_file():
        raise PipelineError(f"no issue body at {arguments.file}: run `make monitor` first")
    number, new = publish(github, arguments.file.read_text(encoding="utf-8"))
    print(f"drift-issue: {'opened' if new else 'updated'} #{number}")
    return 0
