import pytest

from .helpers import trained


@pytest.mark.parametrize("estimator", ["logistic_regression", "random_forest", "hist_gradient_boosting"])
def test_a_classifiers_predictions_from_its_probabilities_are_what_its_predict_says(estimator, tmp_path):
    setup = trained("classification", tmp_path, estimator=estimator)
    rows = setup.frame.drop(columns=["target"])

    scored = setup.model.score(rows)

    features = rows.reindex(columns=list(setup.model.features))
    assert scored.predictions == setup.model.pipeline.predict(features).tolist()
    assert scored.probabilities is not None
    assert [max(shares, key=shares.get) for shares in scored.probabilities] == scored.predictions
    assert set(scored.predictions) == {"high", "low"}


def test_a_regressors_predictions_are_its_predict_and_it_has_no_probabilities(tmp_path):
    setup = trained("regression", tmp_path)
    rows = setup.frame.drop(columns=["target"])

    scored = setup.model.score(rows)

    features = rows.reindex(columns=list(setup.model.features))
    assert scored.predictions == setup.model.pipeline.predict(features).tolist()
    assert scored.probabilities is None
