import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import ModelParams
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.model.train import metadata, train
from {{ cookiecutter.package_name }}.tables import features_and_target


def test_the_pipeline_handles_missing_values_and_unseen_categories(frame, params):
    features, target = features_and_target(frame, params.data)
    model = train(features, target, params)

    unseen = features.head(3).assign(colour=["purple", None, "orange"], size=[None, 1.0, 2.0])
    predictions = model.predict(unseen)

    assert len(predictions) == 3
    assert not pd.isna(predictions).any()


def test_the_same_data_and_seed_give_the_same_predictions(frame, params):
    forest = params.model_copy(
        update={"model": ModelParams(estimator="random_forest", hyperparameters={"n_estimators": 20})}
    )
    features, target = features_and_target(frame, forest.data)

    first = train(features, target, forest).predict(features)
    second = train(features, target, forest).predict(features)

    assert (first == second).all()


def test_a_bad_hyperparameter_value_names_the_parameter(frame, params):
    bad = params.model_copy(
        update={"model": ModelParams(estimator="random_forest", hyperparameters={"max_depth": -1})}
    )
    features, target = features_and_target(frame, bad.data)

    with pytest.raises(PipelineError, match="training random_forest failed: The 'max_depth' parameter"):
        train(features, target, bad)


def test_metadata_records_data_hash_versions_and_features(frame, params):
    params.paths.train.parent.mkdir(parents=True)
    frame.to_csv(params.paths.train, index=False)
    features, target = features_and_target(frame, params.data)

    described = metadata(train(features, target, params), features, params)

    assert len(described["training_data"]["md5"]) == 32
    assert described["training_data"]["rows"] == len(frame)
    assert set(described["versions"]) == {"python", "numpy", "pandas", "scikit-learn", "skops"}
    assert list(described["features"]) == ["size", "count", "colour"]
    if params.task == "classification":
        assert described["classes"] == ["high", "low"]
