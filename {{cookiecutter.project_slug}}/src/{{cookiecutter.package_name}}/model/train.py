"""Stage `train`: fit preprocessing and the configured estimator as one scikit-learn Pipeline."""

from __future__ import annotations

import platform
from importlib.metadata import version
from typing import Any

import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline

from ..config import Params, load_params
from ..errors import PipelineError
from ..outputs import atomic_paths, json_text
from ..tables import features_and_target, file_md5, read_table
from .estimators import build_estimator
from .features import build_preprocessor
from .store import save_model

LIBRARIES = ("numpy", "pandas", "scikit-learn", "skops")


def train(features: pd.DataFrame, target: pd.Series, params: Params) -> Pipeline:
    """Fit the whole pipeline, so that the model file carries its own preprocessing."""
    estimator: BaseEstimator = build_estimator(params.task, params.model, params.seed)
    model = Pipeline([("preprocess", build_preprocessor(features)), ("estimator", estimator)])
    try:
        model.fit(features, target)
    except ValueError as error:
        raise PipelineError(f"training {params.model.estimator} failed: {error}") from error
    return forget_thread_count(model)


def forget_thread_count(model: Pipeline) -> Pipeline:
    """Reset the thread count HistGradientBoosting's bin mapper keeps from fitting to its default.

    The fitted trees do not depend on it, but the saved file would: the same training on a
    machine with more cores would give a different model file, hence a different DVC hash.
    `None` is the default of the bin mapper: use all available threads, as fitting did.
    """
    bin_mapper = getattr(model.named_steps["estimator"], "_bin_mapper", None)
    if bin_mapper is not None:
        bin_mapper.set_params(n_threads=None)
    return model


def metadata(model: Pipeline, features: pd.DataFrame, params: Params) -> dict[str, Any]:
    """What a reader of the model file needs to know about how it was made."""
    estimator = model.named_steps["estimator"]
    described: dict[str, Any] = {
        "task": params.task,
        "target": params.data.target,
        "estimator": params.model.estimator,
        "hyperparameters": params.model.hyperparameters,
        "seed": params.seed,
        "features": {column: str(dtype) for column, dtype in features.dtypes.items()},
        "training_data": {
            "path": str(params.paths.train),
            "md5": file_md5(params.paths.train),
            "rows": len(features),
        },
        "versions": {"python": platform.python_version(), **{name: version(name) for name in LIBRARIES}},
    }
    if hasattr(estimator, "classes_"):
        described["classes"] = [str(label) for label in estimator.classes_]
    return described


def main() -> None:
    params = load_params()
    features, target = features_and_target(read_table(params.paths.train), params.data)
    model = train(features, target, params)
    with atomic_paths(params.paths.model, params.paths.model_metadata) as (model_out, metadata_out):
        save_model(model, model_out)
        metadata_out.write_text(json_text(metadata(model, features, params)), encoding="utf-8")
    print(f"train: {params.model.estimator} fitted on {len(features)} rows")
