"""Command `update-branch`: bring a pull request's branch up to date with its base, results included.

dvc.lock cannot be merged line by line (DVC has no merge driver): when both sides trained, the
merge takes the base's lock and results, and the pipeline then reruns what the branch changed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from ..errors import PipelineError
from .git import REMOTE, git, has_remote, resolve

LOCK = "dvc.lock"
RESULTS_DIR = "reports/"  # results git tracks: on a conflict the base's copy is taken, then rebuilt
BOT_MESSAGE = "Rerun the pipeline on {base} (make update-branch)"


def is_result(path: str) -> bool:
    """Whether the pipeline writes this tracked file (so a conflict in it is settled by rerunning)."""
    return path == LOCK or path.startswith(RESULTS_DIR)


def lock_is_stale(base: str) -> bool:
    """Whether the base changed dvc.lock since this branch forked from it (it trained meanwhile)."""
    fork = git("merge-base", "HEAD", base).strip()
    return bool(git("diff", "--name-only", fork, base, "--", LOCK).strip())


def stale_notice(base: str, base_branch: str) -> str | None:
    """The PR comment's warning when the branch's results were made on an outdated base."""
    if not lock_is_stale(base):
        return None
    return (
        f"⚠️ **`{LOCK}` is stale against `{base_branch}`**: `{base_branch}` trained a new model since this "
        f"branch forked, so these results are not those of the merge. Run `make update-branch "
        f"BASE={base_branch}` and push (or let the merge queue check the merged result)."
    )


def merge_base_branch(base: str) -> list[str]:
    """Merge the base; resolve conflicts in results with the base's copy; return those files."""
    try:
        git("merge", "--no-edit", "--no-ff", base)
    except PipelineError as error:
        failure = str(error)
    else:
        return []
    conflicted = git("diff", "--name-only", "--diff-filter=U").split()
    others = [path for path in conflicted if not is_result(path)]
    if not conflicted or others:
        git("merge", "--abort")
        reason = f"conflicts outside the results: {', '.join(others)}" if others else failure
        raise PipelineError(f"could not merge {base} ({reason}): merge it by hand, then run `make pipeline`")
    git("checkout", "--theirs", "--", *conflicted)
    git("add", "--", *conflicted)
    git("commit", "--no-edit", "--no-verify", "--quiet")
    return conflicted


def parser() -> argparse.ArgumentParser:
    command = argparse.ArgumentParser(prog="update-branch", description=__doc__)
    command.add_argument("--base", default="main", help="the pull request's base branch (default: main)")
    return command


def main(argv: list[str]) -> None:
    arguments = parser().parse_args(argv)
    if git("status", "--porcelain", "--untracked-files=no").strip():
        raise PipelineError("the working tree has uncommitted changes: commit or stash them first")
    base = arguments.base
    if has_remote():
        git("fetch", "--quiet", REMOTE, base)
        base = f"{REMOTE}/{base}"
    resolve(base)
    taken = merge_base_branch(base)
    if taken:
        print(f"update-branch: took {base}'s copy of {', '.join(taken)}; the pipeline rebuilds them")
    repro = subprocess.run([sys.executable, "-m", "dvc", "repro"], check=False)
    if repro.returncode != 0:
        raise PipelineError(
            "the pipeline failed on the merged branch: fix it, then run `make pipeline` and commit"
        )
    git("add", LOCK, "reports")
    if git("diff", "--cached", "--name-only").strip():
        git("commit", "--quiet", "--no-verify", "-m", BOT_MESSAGE.format(base=base))
    print(f"update-branch: up to date with {base}, dvc.lock rebuilt; push the branch")
