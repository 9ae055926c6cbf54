import pytest

from {{ cookiecutter.package_name }}.config import ModelParams
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.model.estimators import ESTIMATORS, build_estimator


@pytest.mark.parametrize(
    ("task", "name"), [(task, name) for task, names in ESTIMATORS.items() for name in names]
)
def test_every_listed_estimator_can_be_built(task, name):
    estimator = build_estimator(task, ModelParams(estimator=name), seed=3)

    assert estimator.get_params().get("random_state", 3) == 3


def test_hyperparameters_are_passed_through():
    estimator = build_estimator(
        "classification", ModelParams(estimator="random_forest", hyperparameters={"n_estimators": 7}), seed=0
    )

    assert estimator.get_params()["n_estimators"] == 7


def test_an_unknown_estimator_lists_the_available_ones():
    with pytest.raises(
        PipelineError, match="'xgboost' is not available for regression; choose one of: linear_regression"
    ):
        build_estimator("regression", ModelParams(estimator="xgboost"), seed=0)


def test_an_unknown_hyperparameter_is_named_with_the_accepted_ones():
    model = ModelParams(estimator="random_forest", hyperparameters={"n_trees": 10})

    with pytest.raises(
        PipelineError, match=r"n_trees not accepted by random_forest; it accepts: .*n_estimators"
    ):
        build_estimator("classification", model, seed=0)
