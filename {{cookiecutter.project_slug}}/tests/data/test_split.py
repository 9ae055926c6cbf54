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


def test_a_class_of_two_rows_is_both_trained_on_and_scored(tmp_path):
    frame = synthetic_frame("classification", rows=400)
    frame.loc[[0, 1], "target"] = "rare"

    train, test = split(frame, make_params("classification", tmp_path))

    assert (train["target"] == "rare").sum() == (test["target"] == "rare").sum() == 1


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_two_rows_split_one_and_one_and_one_row_is_refused(task, tmp_path):
    params = make_params(task, tmp_path, split={"test_size": 0.25, "stratify": False})
    frame = synthetic_frame(task)

    train, test = split(frame.head(2), params)
    assert (len(train), len(test)) == (1, 1)
    with pytest.raises(PipelineError, match="cannot split 1 row"):
        split(frame.head(1), params)
