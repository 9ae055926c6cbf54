"""Command `template-update`: the template's changes since this project was generated, on the branch
`template-update`, with ONE pull request to review them.

cruft (`.cruft.json` records the template and the commit the project is at) merges the template's
changes three ways. Where a change meets lines this project changed too, the file keeps conflict
markers; where a change cannot be placed at all, cruft writes the hunks to `<file>.rej` beside it.
Both are committed as they are and listed in the pull request, to be resolved on its branch. A
later run adds the template's newer changes to the same branch and the same pull request.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from ..errors import PipelineError
from ..outputs import markdown_code
from .git import REMOTE, git
from .github import GitHub

BRANCH = "template-update"
CRUFT_STATE = Path(".cruft.json")
TITLE = "Update from the project template"
OUT_OF_DATE = "cruft is out of date"  # `cruft check`'s words when the template moved on


@dataclass(frozen=True)
class Update:
    """What one `cruft update` did: the template commits it went between, and the files it touched."""

    old: str
    new: str
    changed: list[str]
    with_markers: list[str]  # conflict markers inside
    rejected: list[str]  # `<file>.rej`: hunks cruft could not place in <file>


def template_commit() -> str:
    """The template commit .cruft.json says this checkout is at."""
    return str(json.loads(CRUFT_STATE.read_text(encoding="utf-8"))["commit"])


def cruft(*arguments: str) -> subprocess.CompletedProcess[str]:
    """Run cruft from this environment (a dev dependency, pinned in uv.lock)."""
    return subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "cruft", *arguments], capture_output=True, text=True, check=False
    )


def failed(what: str, result: subprocess.CompletedProcess[str]) -> PipelineError:
    lines = (result.stderr.strip() or result.stdout.strip() or "no reason given").splitlines()
    return PipelineError(f"{what} failed: {lines[-1]}")


def is_up_to_date() -> bool:
    """`cruft check`: whether the template has commits this checkout does not have yet."""
    result = cruft("check")
    if result.returncode == 0:
        return True
    if OUT_OF_DATE in result.stdout:
        return False
    raise failed("`cruft check` (can this machine clone the template .cruft.json names?)", result)


def open_pull(github: GitHub, base: str) -> dict | None:
    """The open pull request from this repository's `template-update` branch into `base`, if any."""
    query = urllib.parse.urlencode({"state": "open", "base": base, "per_page": 100})
    for pull in github.json("GET", f"/pulls?{query}") or []:
        head = pull.get("head", {})
        if head.get("ref") == BRANCH and (head.get("repo") or {}).get("full_name") == github.repository:
            return pull
    return None


def start_branch(existing: dict | None, base: str) -> None:
    """The open pull request's branch as it is (resolutions included), or a new one from the base."""
    source = BRANCH if existing is not None else base
    git("fetch", "--quiet", REMOTE, f"+refs/heads/{source}:refs/remotes/{REMOTE}/{source}")
    git("checkout", "--quiet", "-B", BRANCH, f"{REMOTE}/{source}")


def relock() -> None:
    """Bring uv.lock in line with a pyproject.toml the template changed (cruft leaves uv.lock alone)."""
    uv = shutil.which("uv")
    if uv is None:
        raise PipelineError("the template changed pyproject.toml and uv is not installed to update uv.lock")
    result = subprocess.run([uv, "lock", "--quiet"], capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise failed("`uv lock` after the template changed pyproject.toml", result)


def apply_update() -> Update:
    """`cruft update`, then everything it changed staged, conflicts included."""
    old = template_commit()
    result = cruft("update", "--skip-apply-ask")
    if result.returncode != 0:
        raise failed("`cruft update`", result)
    with_markers = git("diff", "--name-only", "--diff-filter=U").split()
    rejected = git("ls-files", "--others", "--exclude-standard", "--", "*.rej").split()
    if "pyproject.toml" not in with_markers and git("status", "--porcelain", "--", "pyproject.toml").strip():
        relock()
    git("add", "--all")
    changed = git("diff", "--cached", "--name-only").split()
    return Update(old, template_commit(), changed, with_markers, rejected)


def body(update: Update, template: str) -> str:
    """The pull request's description: which template commits, which files, what to resolve."""
    lines = [
        f"The project template ({markdown_code(template)}) changed: this branch has its changes from "
        f"{markdown_code(update.old[:12])} to {markdown_code(update.new[:12])}, merged by cruft. The pull "
        "request workflow checks and trains it like any other change.",
        "",
    ]
    if update.with_markers or update.rejected:
        lines += ["**Conflicts to resolve on this branch before merging:**", ""]
        lines += [
            f"- {markdown_code(path)}: conflict markers (`<<<<<<<`) where the template and this project "
            "changed the same lines; keep what you want and delete the markers."
            for path in update.with_markers
        ]
        lines += [
            f"- {markdown_code(path)}: hunks cruft could not place in {markdown_code(path[: -len('.rej')])}; "
            "apply them by hand, then delete the `.rej` file."
            for path in update.rejected
        ]
        lines.append("")
    lines += ["Files changed:", "", *(f"- {markdown_code(path)}" for path in update.changed)]
    return "\n".join(lines) + "\n"


def open_or_update(github: GitHub, existing: dict | None, base: str, text: str) -> int:
    """Update the one template pull request, or open it; return its number."""
    if existing is not None:
        number = int(existing["number"])
        github.json("PATCH", f"/pulls/{number}", {"title": TITLE, "body": text})
        return number
    pull = github.json("POST", "/pulls", {"title": TITLE, "head": BRANCH, "base": base, "body": text})
    return int(pull["number"])


def parser() -> argparse.ArgumentParser:
    command = argparse.ArgumentParser(prog="template-update", description=__doc__)
    command.add_argument("--base", default="main", help="the branch the pull request goes to (default: main)")
    return command


def main(argv: list[str]) -> int:
    arguments = parser().parse_args(argv)
    if not CRUFT_STATE.is_file():
        print(
            "template-update: no .cruft.json, so no template to update from: generate projects with "
            "`cruft create`, or run `cruft link TEMPLATE-URL` here and commit .cruft.json"
        )
        return 0
    if git("status", "--porcelain").strip():
        raise PipelineError("the working tree has changes: commit or stash them first (cruft needs it clean)")
    github = GitHub.from_env()
    existing = open_pull(github, arguments.base)
    start_branch(existing, arguments.base)
    if is_up_to_date():
        print(f"template-update: {BRANCH} is up to date with the template at {template_commit()[:12]}")
        return 0
    update = apply_update()
    if not update.changed:
        print("template-update: the template's new commits change nothing in this project")
        return 0
    message = f"Update from the project template ({update.old[:7]}..{update.new[:7]})"
    git("commit", "--quiet", "--no-verify", "-m", message)
    force = [] if existing is not None else ["--force"]  # a new branch replaces a closed pull request's
    git("push", "--quiet", *force, REMOTE, f"HEAD:refs/heads/{BRANCH}")
    template = str(json.loads(CRUFT_STATE.read_text(encoding="utf-8"))["template"])
    number = open_or_update(github, existing, arguments.base, body(update, template))
    conflicts = len(update.with_markers) + len(update.rejected)
    print(
        f"template-update: pull request #{number} has the template's changes up to {update.new[:12]}"
        + (f", with {conflicts} conflict(s) to resolve" if conflicts else "")
    )
    return 0
