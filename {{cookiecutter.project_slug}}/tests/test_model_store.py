import pytest
import skops.io
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from {{ cookiecutter.package_name }}.dataset import features_and_target
from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.model_store import load_model, save_model
from {{ cookiecutter.package_name }}.train import train


def test_a_saved_model_loads_and_predicts_the_same(frame, params, tmp_path):
    features, target = features_and_target(frame, params.data)
    model = train(features, target, params)

    save_model(model, tmp_path / "model.skops")

    assert (load_model(tmp_path / "model.skops").predict(features) == model.predict(features)).all()


def test_a_file_with_unreviewed_types_is_refused(tmp_path):
    path = tmp_path / "model.skops"
    skops.io.dump(Pipeline([("step", FunctionTransformer(func=sorted))]), path)

    with pytest.raises(PipelineError, match=r"holds untrusted types, refusing to load: builtins\.sorted"):
        load_model(path)


def test_a_missing_model_says_to_train_first(tmp_path):
    with pytest.raises(PipelineError, match="run the train stage first"):
        load_model(tmp_path / "model.skops")
