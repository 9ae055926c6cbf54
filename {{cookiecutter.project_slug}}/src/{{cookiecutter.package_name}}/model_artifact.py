"""Where the registered model lives, and the content hash each commit recorded for it."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import yaml

from .errors import PipelineError
from .repository import file_at

# The artifact's name in dvc.yaml `artifacts:`, and so in every registry tag (model@v1.0.0).
ARTIFACT = "model"
# The key under which each result (model tests, metrics) names the model and data it describes.
COMPUTED_FOR = "computed_for"


def committed_yaml(commit: str, path: str) -> dict:
    """A YAML file as committed, or an empty mapping when the commit does not have it."""
    text = file_at(commit, path)
    return (yaml.safe_load(text) or {}) if text else {}


def artifact_path(commit: str) -> str:
    """The model's path, as dvc.yaml declares it under `artifacts:` at that commit."""
    declared = committed_yaml(commit, "dvc.yaml").get("artifacts", {}).get(ARTIFACT)
    if not declared:
        raise PipelineError(f"dvc.yaml at {commit[:7]} declares no artifact '{ARTIFACT}'")
    return declared["path"]


def recorded_md5(commit: str, path: str) -> str | None:
    """The md5 dvc.lock recorded at that commit for an output, or None if it has none."""
    for stage in committed_yaml(commit, "dvc.lock").get("stages", {}).values():
        for output in stage.get("outs", []):
            if output["path"] == path:
                return output.get("md5")
    return None


def file_md5(path: Path) -> str:
    """The same content hash DVC records, so a file can be checked against dvc.lock."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def default_remote(config_text: str | None) -> str | None:
    """The `core.remote` a DVC config file (.dvc/config) names, or None."""
    section = ""
    for line in (config_text or "").splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped.strip("[]'\" ")
        elif section == "core" and (found := re.fullmatch(r"remote\s*=\s*(\S+)", stripped)):
            return found.group(1)
    return None


def dvc_reason(stderr: str) -> str:
    """DVC's own error lines, without its 'Having any troubles?' support footer."""
    lines = []
    for line in stderr.splitlines():
        if line.startswith("Having any troubles?"):
            break
        if line.strip() and not set(line.strip()) <= set("-"):
            lines.append(line.strip())
    errors = [line for line in lines if line.startswith("ERROR")]
    return (errors or lines or ["no output"])[-1].removeprefix("ERROR: ")


def computed_for(model: Path, data: Path) -> dict[str, dict[str, str]]:
    """Which model and data a result was computed from: the files actually read, hashed as DVC does."""
    return {
        "model": {"path": model.as_posix(), "md5": file_md5(model)},
        "data": {"path": data.as_posix(), "md5": file_md5(data)},
    }
