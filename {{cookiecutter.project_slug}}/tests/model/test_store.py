import hashlib
import io
import json
import zipfile

import numpy as np
import pytest
import skops.io
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from threadpoolctl import threadpool_limits

from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.model.canonical_skops import ZIP_EPOCH, canonical_skops
from {{ cookiecutter.package_name }}.model.estimators import ESTIMATORS
from {{ cookiecutter.package_name }}.model.store import TRUSTED_TYPES, load_model, save_model
from {{ cookiecutter.package_name }}.model.train import train
from {{ cookiecutter.package_name }}.tables import features_and_target

from ..conftest import make_params, synthetic_frame

# Small versions of every estimator, so that fitting each twice stays fast.
SMALL = {
    "random_forest": {"n_estimators": 5, "max_depth": 4},
    "hist_gradient_boosting": {"max_iter": 5},
}
ESTIMATOR_CASES = [(task, name) for task, names in ESTIMATORS.items() for name in names]


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(params=ESTIMATOR_CASES, ids=["-".join(case) for case in ESTIMATOR_CASES])
def fitted(request, tmp_path):
    """For each task and estimator: the params, the features and two fits of the same pipeline."""
    task, name = request.param
    params = make_params(task, tmp_path, model={"estimator": name, "hyperparameters": SMALL.get(name, {})})
    features, target = features_and_target(synthetic_frame(task), params.data)
    return params, features, train(features, target, params), train(features, target, params)


def test_two_fits_with_the_same_seed_save_identical_bytes(fitted, tmp_path):
    _, _, first, second = fitted

    save_model(first, tmp_path / "first.skops")
    save_model(second, tmp_path / "second.skops")

    assert sha256(tmp_path / "first.skops") == sha256(tmp_path / "second.skops")


def test_saving_one_model_twice_gives_identical_bytes(fitted, tmp_path):
    _, _, model, _ = fitted

    save_model(model, tmp_path / "once.skops")
    save_model(model, tmp_path / "twice.skops")

    assert sha256(tmp_path / "once.skops") == sha256(tmp_path / "twice.skops")


def test_the_file_does_not_depend_on_how_many_threads_fitting_had(task, tmp_path):
    params = make_params(task, tmp_path, model={"estimator": "hist_gradient_boosting", "hyperparameters": {}})
    features, target = features_and_target(synthetic_frame(task), params.data)

    with threadpool_limits(limits=2):  # whatever OMP_NUM_THREADS says
        save_model(train(features, target, params), tmp_path / "two_threads.skops")
    with threadpool_limits(limits=1):
        save_model(train(features, target, params), tmp_path / "one_thread.skops")

    assert sha256(tmp_path / "two_threads.skops") == sha256(tmp_path / "one_thread.skops")


def test_the_canonical_file_loads_and_predicts_as_the_model(fitted, tmp_path):
    _, features, model, _ = fitted
    path = tmp_path / "model.skops"

    save_model(model, path)

    assert sorted(skops.io.get_untrusted_types(file=path)) == sorted(
        skops.io.get_untrusted_types(data=skops.io.dumps(model))
    )
    loaded = skops.io.load(path, trusted=list(TRUSTED_TYPES))
    assert (loaded.predict(features) == model.predict(features)).all()
    if hasattr(model, "predict_proba"):
        assert (load_model(path).predict_proba(features) == model.predict_proba(features)).all()


def test_the_canonical_file_names_entries_by_order_and_stamps_one_time(frame, params, tmp_path):
    features, target = features_and_target(frame, params.data)
    save_model(train(features, target, params), tmp_path / "model.skops")

    with zipfile.ZipFile(tmp_path / "model.skops") as archive:
        entries = archive.infolist()
        schema = archive.read("schema.json").decode()
    names = [entry.filename for entry in entries]
    arrays = [name for name in names if name != "schema.json"]
    assert names == sorted(names)
    assert arrays == [f"{number:06d}.npy" for number in range(1, len(arrays) + 1)]
    assert {entry.date_time for entry in entries} == {ZIP_EPOCH}
    assert {entry.compress_type for entry in entries} == {zipfile.ZIP_STORED}
    assert all(f'"file": "{name}"' in schema for name in arrays)


def test_a_shared_object_stays_shared_and_bytes_keep_their_content():
    array = np.arange(3.0)
    obj = {"same": [array, array], "other": np.arange(2.0), "blob": b"\x00raw"}

    data = canonical_skops(skops.io.dumps(obj))
    loaded = skops.io.loads(data)

    assert data == canonical_skops(skops.io.dumps(obj))
    assert loaded["same"][0] is loaded["same"][1]
    assert loaded["same"][0].tolist() == [0.0, 1.0, 2.0]
    assert loaded["other"].tolist() == [0.0, 1.0]
    assert loaded["blob"] == b"\x00raw"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["000001.npy", "000002.npy", "000003.bin", "schema.json"]


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


def test_a_saved_model_with_unreviewed_types_is_still_refused(tmp_path):
    path = tmp_path / "model.skops"
    save_model(Pipeline([("step", FunctionTransformer(func=sorted))]), path)

    with pytest.raises(PipelineError, match=r"holds untrusted types, refusing to load: builtins\.sorted"):
        load_model(path)


def nodes(value):
    """Every node of a skops schema, depth first."""
    if isinstance(value, list):
        for item in value:
            yield from nodes(item)
    elif isinstance(value, dict):
        if "__loader__" in value:
            yield value
        for item in value.values():
            yield from nodes(item)


def test_a_tampered_canonical_file_is_refused(frame, params, tmp_path):
    features, target = features_and_target(frame, params.data)
    path = tmp_path / "model.skops"
    save_model(train(features, target, params), path)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    schema = json.loads(members["schema.json"])
    scaler = next(node for node in nodes(schema) if node["__class__"] == "StandardScaler")
    scaler.update(__class__="system", __module__="os")
    members["schema.json"] = json.dumps(schema).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)

    with pytest.raises(PipelineError, match=r"holds untrusted types, refusing to load: os\.system"):
        load_model(path)


def test_a_zip_that_does_not_match_its_schema_is_not_canonicalised():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("schema.json", json.dumps({"__loader__": "NdArrayNode", "file": "gone.npy"}))
        archive.writestr("stray.npy", b"")

    with pytest.raises(ValueError, match=r"missing files \['gone\.npy'\].*does not name \['stray\.npy'\]"):
        canonical_skops(buffer.getvalue())


def test_a_missing_model_says_to_train_first(tmp_path):
    with pytest.raises(PipelineError, match="run the train stage first"):
        load_model(tmp_path / "model.skops")
