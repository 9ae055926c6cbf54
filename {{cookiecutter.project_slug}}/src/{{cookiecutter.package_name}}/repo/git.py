"""The project's git repository: committed files, tags and the remote, read with git itself."""

from __future__ import annotations

import shutil
import subprocess

from ..errors import PipelineError

REMOTE = "origin"


def git_bytes(*arguments: str) -> bytes:
    """Run git and return what it printed, as bytes; a failure becomes a PipelineError with git's reason."""
    executable = shutil.which("git")
    if executable is None:
        raise PipelineError("git is not installed")
    result = subprocess.run(  # noqa: S603 - fixed executable, arguments are never shell-parsed
        [executable, *arguments], capture_output=True, check=False
    )
    if result.returncode != 0:
        reason = result.stderr.decode(errors="replace").strip()
        raise PipelineError(f"`git {' '.join(arguments)}` failed: {reason}")
    return result.stdout


def git(*arguments: str) -> str:
    """Run git and return what it printed as text."""
    return git_bytes(*arguments).decode()


def resolve(revision: str) -> str:
    """The full commit hash a revision (branch, tag, HEAD) points at."""
    return git("rev-parse", "--verify", "--quiet", revision + "^{commit}").strip()


def is_ancestor(ancestor: str, descendant: str) -> bool:
    """Whether a commit is in another commit's history."""
    try:
        git("merge-base", "--is-ancestor", ancestor, descendant)
    except PipelineError:
        return False
    return True


def file_bytes_at(commit: str, path: str) -> bytes | None:
    """A file's committed bytes, or None when that commit does not have it in git."""
    try:
        return git_bytes("show", f"{commit}:{path}")
    except PipelineError:
        return None


def file_at(commit: str, path: str) -> str | None:
    """A file's committed text, or None when that commit does not have it."""
    content = file_bytes_at(commit, path)
    return None if content is None else content.decode()


def has_remote(name: str = REMOTE) -> bool:
    """Whether the repository has the remote that tags are pushed to."""
    return name in git("remote").split()


def push_tag(tag: str) -> None:
    """Publish a tag on the remote; if that fails, remove it here too so nothing half-exists."""
    try:
        git("push", REMOTE, f"refs/tags/{tag}")
    except PipelineError:
        git("tag", "--delete", tag)
        raise
