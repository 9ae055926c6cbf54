"""The estimators params.yaml may name, per task, and how their hyperparameters are checked."""

from __future__ import annotations

from sklearn.base import BaseEstimator
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

from ..config import ModelParams, Task
from ..errors import PipelineError

ESTIMATORS: dict[Task, dict[str, type[BaseEstimator]]] = {
    "classification": {
        "logistic_regression": LogisticRegression,
        "random_forest": RandomForestClassifier,
        "hist_gradient_boosting": HistGradientBoostingClassifier,
    },
    "regression": {
        "linear_regression": LinearRegression,
        "ridge": Ridge,
        "random_forest": RandomForestRegressor,
        "hist_gradient_boosting": HistGradientBoostingRegressor,
    },
}


def build_estimator(task: Task, model: ModelParams, seed: int) -> BaseEstimator:
    """Instantiate the configured estimator, seeded, refusing names sklearn would not accept."""
    available = ESTIMATORS[task]
    if model.estimator not in available:
        raise PipelineError(
            f"model.estimator '{model.estimator}' is not available for {task}; "
            f"choose one of: {', '.join(available)}"
        )
    estimator_class = available[model.estimator]
    accepted = estimator_class().get_params()
    unknown = sorted(set(model.hyperparameters) - set(accepted))
    if unknown:
        raise PipelineError(
            f"model.hyperparameters: {', '.join(unknown)} not accepted by {model.estimator}; "
            f"it accepts: {', '.join(sorted(accepted))}"
        )
    settings = dict(model.hyperparameters)
    if "random_state" in accepted:
        settings.setdefault("random_state", seed)
    return estimator_class(**settings)
