"""Where the registered model lives, and the content hash each commit recorded for it."""

from __future__ import annotations

import yaml

from ..errors import PipelineError
from ..repo.git import file_at

# The artifact's name in dvc.yaml `artifacts:`, and so in every registry tag (model@v1.0.0).
ARTIFACT = "model"


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
