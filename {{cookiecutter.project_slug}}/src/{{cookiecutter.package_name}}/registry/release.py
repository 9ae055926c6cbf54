"""Without a DVC remote, GitHub itself keeps the model each registered version points at.

Command `github model-artifact|release-model|pr-labels`:

- `model-artifact` (pull request): prints, for $GITHUB_OUTPUT, the name of an artifact that
  carries the model's md5 from dvc.lock (`model-<md5>`) and the paths to upload in it, when no
  default DVC remote is configured; prints nothing when one is (the remote keeps the model).
- `release-model` (main, after `make register`): finds that artifact, checks every file's md5
  against dvc.lock at the registered commit, and attaches the files to a GitHub Release on the
  registration tag (`model@v1.2.0`). Deploy downloads them from there.
- `pr-labels`: the labels of the pull request merged as GITHUB_SHA, as `names=a,b`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import urllib.parse
import zipfile
from pathlib import Path, PurePosixPath

import yaml

from ..errors import PipelineError
from ..repo.dvc import default_remote
from ..repo.git import resolve
from ..repo.github import GitHub, GitHubError
from ..tables import file_md5
from .artifact import ARTIFACT, committed_yaml, recorded_md5
from .versions import registrations, registry_events

CANDIDATES = 10  # artifacts of the same name tried, newest first


def model_files(commit: str | None) -> dict[str, str]:
    """paths.model and paths.model_metadata with the md5 dvc.lock records (working tree if commit is None)."""
    if commit is None:
        params = yaml.safe_load(Path("params.yaml").read_text(encoding="utf-8"))
        lock = Path("dvc.lock")
        locked = (yaml.safe_load(lock.read_text(encoding="utf-8")) if lock.exists() else None) or {}
        stages = locked.get("stages", {})
        recorded = {out["path"]: out.get("md5") for stage in stages.values() for out in stage.get("outs", [])}
    else:
        params = committed_yaml(commit, "params.yaml")
        recorded = {}
    files = {}
    for key in ("model", "model_metadata"):
        path = params["paths"][key]
        md5 = recorded.get(path) if commit is None else recorded_md5(commit, path)
        if not md5:
            where = "dvc.lock" if commit is None else f"dvc.lock at {commit[:7]}"
            raise PipelineError(f"{where} records no md5 for {path}: run `make pipeline` first")
        files[path] = md5
    return files


def artifact_name(files: dict[str, str]) -> str:
    """Content-addressed: the model's md5 names the artifact, so main finds exactly that model."""
    return f"{ARTIFACT}-{next(iter(files.values()))}"


def remote_in_worktree() -> str | None:
    """The default DVC remote this checkout configures (.dvc/config.local wins over .dvc/config)."""
    found = None
    for name in (".dvc/config", ".dvc/config.local"):
        path = Path(name)
        if path.exists():
            found = default_remote(path.read_text(encoding="utf-8")) or found
    return found


def model_artifact() -> None:
    """Print `name=` and `paths<<...` for the upload step, or nothing when a DVC remote keeps the model."""
    remote = remote_in_worktree()
    if remote:
        print(f"github: the DVC remote '{remote}' keeps the model: no artifact needed", file=sys.stderr)
        return
    files = model_files(None)
    for path, md5 in files.items():
        if not Path(path).exists() or file_md5(Path(path)) != md5:
            raise PipelineError(f"{path} is missing or differs from dvc.lock: run `make pipeline` first")
    print(f"name={artifact_name(files)}")
    print("paths<<END_OF_PATHS")
    print("\n".join(files))
    print("END_OF_PATHS")


def registered_at(commit: str) -> str | None:
    """The registration tag (`model@v1.2.0`) at a commit, if any."""
    for event in registrations(registry_events()).values():
        if event.commit == commit:
            return event.tag
    return None


def release_of(github: GitHub, tag: str) -> dict | None:
    """The release on a tag, or None."""
    try:
        return github.json("GET", f"/releases/tags/{urllib.parse.quote(tag, safe='')}")
    except GitHubError as error:
        if error.status == 404:
            return None
        raise


def verified_artifact(
    github: GitHub, name: str, files: dict[str, str], commit: str, work: Path
) -> dict[str, Path]:
    """Download the newest artifact `name` whose files all match dvc.lock; refuse if none does."""
    listing = github.json("GET", f"/actions/artifacts?name={name}&per_page={CANDIDATES}")
    artifacts = [found for found in listing.get("artifacts", []) if not found.get("expired")]
    where = f"artifacts named '{name}' in {github.repository} (GET .../actions/artifacts?name={name})"
    if not artifacts:
        raise PipelineError(
            f"no {where}: the pull request's workflow uploads it after training; it may have expired "
            "(artifact retention) or the pull request's run never finished. Nothing was published"
        )
    problems = []
    newest_first = sorted(artifacts, key=lambda found: found.get("created_at") or "", reverse=True)
    for artifact in newest_first[:CANDIDATES]:
        archive = github.download(f"/actions/artifacts/{artifact['id']}/zip", work / f"{artifact['id']}.zip")
        unpacked = work / str(artifact["id"])
        with zipfile.ZipFile(archive) as packed:
            entries = [entry for entry in packed.namelist() if not entry.endswith("/")]
            by_name = {PurePosixPath(entry).name: entry for entry in entries}
            found: dict[str, Path] = {}
            for path, md5 in files.items():
                entry = by_name.get(PurePosixPath(path).name)
                if entry is None:
                    problems.append(f"artifact {artifact['id']} has no {PurePosixPath(path).name}")
                    break
                target = unpacked / PurePosixPath(path).name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(packed.read(entry))
                actual = file_md5(target)
                if actual != md5:
                    problems.append(
                        f"artifact {artifact['id']}: {path} has md5 {actual}, "
                        f"dvc.lock at {commit[:7]} records {md5}"
                    )
                    break
                found[path] = target
            else:
                return found
    raise PipelineError(
        f"none of the {where} holds the registered model: {'; '.join(problems)}. Nothing was published"
    )


def release_model() -> None:
    """Attach the registered model's files to the GitHub Release on its registration tag."""
    remote = remote_in_worktree()
    if remote:
        print(f"github: the DVC remote '{remote}' keeps the model: no release needed")
        return
    head = resolve("HEAD")
    tag = registered_at(head)
    if tag is None:
        print("github: no version is registered at HEAD: nothing to release")
        return
    files = model_files(head)
    github = GitHub.from_env()
    release = release_of(github, tag)
    present = {asset["name"] for asset in (release or {}).get("assets", [])}
    if release and all(PurePosixPath(path).name in present for path in files):
        print(f"github: the release {tag} already holds the model")
        return
    with tempfile.TemporaryDirectory() as scratch:
        verified = verified_artifact(github, artifact_name(files), files, head, Path(scratch))
        if release is None:
            notes = "\n".join(f"- `{path}` md5 `{md5}`" for path, md5 in files.items())
            release = github.json(
                "POST",
                "/releases",
                {"tag_name": tag, "name": tag, "body": f"Registered {tag} at {head[:7]}.\n\n{notes}\n"},
            )
        for local in verified.values():
            if local.name not in present:
                github.upload(release["upload_url"], local, local.name)
    print(f"github: the release {tag} holds {', '.join(files)} (md5 checked against dvc.lock)")


def fetch_release_asset(tag: str, path: str, destination: Path) -> None:
    """Download the release asset of a registration tag that holds `path` (verified by the caller)."""
    github = GitHub.from_env()
    release = release_of(github, tag)
    where = f"the GitHub release {tag} of {github.repository}"
    if release is None:
        raise PipelineError(f"there is no {where}")
    name = PurePosixPath(path).name
    asset = next((asset for asset in release.get("assets", []) if asset["name"] == name), None)
    if asset is None:
        raise PipelineError(f"{where} has no asset {name}")
    github.download(f"/releases/assets/{asset['id']}", destination)


def pr_labels() -> None:
    """`names=a,b`: the labels of the pull requests GITHUB_SHA belongs to."""
    sha = os.environ.get("GITHUB_SHA") or resolve("HEAD")
    pulls = GitHub.from_env().json("GET", f"/commits/{sha}/pulls")
    names = [label["name"] for pull in pulls or [] for label in pull.get("labels", [])]
    print(f"names={','.join(names)}")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog=f"python -m {__package__} github", description=__doc__)
    root.add_argument("action", choices=["model-artifact", "release-model", "pr-labels"])
    return root


def main(argv: list[str]) -> None:
    action = parser().parse_args(argv).action
    {"model-artifact": model_artifact, "release-model": release_model, "pr-labels": pr_labels}[action]()
