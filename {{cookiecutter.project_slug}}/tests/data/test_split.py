import pytest

from {{ cookiecutter.package_name }}.data.split import split
from {{ cookiecutter.package_name }}.errors import PipelineError

from ..conftest import make_params, synthetic_frame


def test_the_test_share_follows_params(frame, params):
    train, test = split(frame, params)

    assert len(test) == pytest.approx(0.25 * len(frame), abs=1)
    assert len(train) + len(test) == len(frame)
    assert set(train.index).isdisjoint(test.index)


def test_the_same_seed_gives_the_same_split(frame, params):
    first_train, _ = split(frame, params)
    second_train, _ = split(frame, params)

    assert first_train.index.equals(second_train.index)


def test_classes_keep_their_share_in_a_stratified_split(tmp_path):
    frame = synthetic_frame("classification", rows=400)
    train, test = split(frame, make_params("classification", tmp_path))

    overall = frame["target"].value_counts(normalize=True)
    assert test["target"].value_counts(normalize=True).to_dict() == pytest.approx(overall.to_dict(), abs=0.02)
    assert train["target"].value_counts(normalize=True).to_dict() == pytest.approx(
        overall.to_dict(), abs=0.02
    )


def test_a_class_with_one_row_cannot_be_stratified(tmp_path):
    frame = synthetic_frame("classification")
    frame.loc[0, "target"] = "rare"

    with pytest.raises(PipelineError, match="a class has only 1 row"):
        split(frame, make_params("classification", tmp_path))
