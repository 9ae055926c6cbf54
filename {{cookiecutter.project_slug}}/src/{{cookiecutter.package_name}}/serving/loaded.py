"""A model ready to answer: the fitted pipeline, its version, and what it was trained on."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from ..config import Params
from ..errors import PipelineError
from ..model.store import load_model
from ..tables import file_md5

MODEL_NAME = "model"
SERVING_BUNDLES = Path("build/serving")


@dataclass(frozen=True)
class Scored:
    """A model's answer for some rows: one prediction each, and class probabilities if it has them."""

    predictions: list[Any]
    probabilities: list[dict[str, float]] | None


@dataclass(frozen=True)
class Scores:
    """The same answer as arrays, for files of many rows: no Python object per row."""

    predictions: np.ndarray
    probabilities: np.ndarray | None  # one row per input row, one column per class, in `classes` order


@dataclass(frozen=True)
class LoadedModel:
    """One version of the model, loaded once and shared by every request."""

    version: str
    source: str
    pipeline: Pipeline
    task: str
    features: tuple[str, ...]
    classes: tuple[str, ...] | None

    def scores(self, frame: pd.DataFrame) -> Scores:
        """Predict for checked rows: the features in training order, in the types training saw.

        A classifier's predictions are the most probable of its classes, which is what its own
        `predict` returns, so the forest (or any ensemble) is walked once, not twice.
        """
        features = frame.reindex(columns=list(self.features))
        if self.classes is None or not hasattr(self.pipeline, "predict_proba"):
            return Scores(np.asarray(self.pipeline.predict(features)), None)
        shares = self.pipeline.predict_proba(features)
        return Scores(self.pipeline.classes_[shares.argmax(axis=1)], shares)

    def score(self, frame: pd.DataFrame) -> Scored:
        """`scores` as JSON's values: one per row, probabilities by class label."""
        scores = self.scores(frame)
        predictions = [plain(value) for value in scores.predictions.tolist()]
        if scores.probabilities is None or self.classes is None:
            return Scored(predictions, None)
        probabilities = [dict(zip(self.classes, row, strict=True)) for row in scores.probabilities.tolist()]
        return Scored(predictions, probabilities)


def plain(value: Any) -> Any:
    """A numpy scalar as JSON's value; NaN as null."""
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def from_files(model_file: Path, description_file: Path, version: str, source: str) -> LoadedModel:
    """Load a model file (trusted types only) and the description train wrote beside it."""
    if not description_file.is_file():
        raise PipelineError(f"no {description_file}: run the train stage first (make pipeline)")
    described = json.loads(description_file.read_text(encoding="utf-8"))
    classes = described.get("classes")
    return LoadedModel(
        version=version,
        source=source,
        pipeline=load_model(model_file),
        task=described["task"],
        features=tuple(described["features"]),
        classes=tuple(classes) if classes else None,
    )


def load_local(params: Params) -> LoadedModel:
    """The working copy's model; its version names its content, as DVC does."""
    model_file = params.paths.model
    if not model_file.is_file():
        raise PipelineError(f"no model at {model_file}: run `make pipeline` first")
    version = f"local-{file_md5(model_file)[:8]}"
    return from_files(model_file, params.paths.model_metadata, version, f"the working copy ({model_file})")


def current_tag(stage: str) -> str:
    """The tag that assigned the stage its current version."""
    from ..registry.versions import registry_events  # GTO: imported only when a stage is served

    assignments = [
        event for event in registry_events() if event.kind == "assignment" and event.stage == stage
    ]
    if not assignments:
        raise PipelineError(
            f"no version has been assigned to {stage}: `make promote VERSION=... STAGE={stage}`"
        )
    return assignments[-1].tag


def load_bundle(bundle: Path, verified: str = "md5-checked") -> LoadedModel:
    """A bundle directory `make deploy` wrote, its model refused unless its md5 is metadata.json's."""
    if not (bundle / "metadata.json").is_file():
        raise PipelineError(f"{bundle} is not a model bundle (no metadata.json): `make deploy` writes them")
    metadata = json.loads((bundle / "metadata.json").read_text(encoding="utf-8"))
    descriptions = [path for path in bundle.glob("*.json") if path.name != "metadata.json"]
    if len(descriptions) != 1:
        raise PipelineError(f"{bundle} should hold one model description besides metadata.json")
    model_file = bundle / metadata["model"]["file"]
    if not model_file.is_file() or file_md5(model_file) != metadata["model"]["md5"]:
        raise PipelineError(
            f"{model_file} is missing or its md5 is not {metadata['model']['md5']} (metadata.json): "
            "refusing to serve it"
        )
    source = f"{metadata['tag']} ({verified}, {bundle})"
    return from_files(model_file, descriptions[0], metadata["version"], source)


def load_stage(stage: str, root: Path = SERVING_BUNDLES) -> LoadedModel:
    """A stage's current version, fetched and md5-verified as `make deploy` does, bundled under root."""
    return load_tag(current_tag(stage), root)


def load_tag(tag: str, root: Path = SERVING_BUNDLES) -> LoadedModel:
    """The version a stage tag assigned, fetched and md5-verified as `make deploy` does.

    The bundle an earlier start wrote for the same tag is reused if it still matches dvc.lock,
    so a restart or a reload does not fetch the model again.
    """
    from ..registry.deploy import bundle_dir, holds_bundle, read_tag, write_bundle

    assigned = read_tag(tag)
    bundle = bundle_dir(assigned, root)
    if not holds_bundle(bundle, assigned):
        bundle = write_bundle(assigned, root)
    return load_bundle(bundle, "verified")


def load_source(name: str | Path, params: Params) -> LoadedModel:
    """A bundle directory (a Path); `local`, the working copy; any other name, a stage of the registry."""
    if isinstance(name, Path):
        return load_bundle(name)
    return load_local(params) if name == "local" else load_stage(name)
