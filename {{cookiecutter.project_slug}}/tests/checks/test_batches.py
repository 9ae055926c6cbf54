import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.checks.batches import columns_to_shift, make_batches
from {{ cookiecutter.package_name }}.errors import PipelineError

from ..conftest import synthetic_frame


def test_batches_are_the_held_out_rows_without_their_labels(frame, params):
    batches = make_batches(frame, params)

    assert set(batches) == {"stable.csv", "shifted.csv", "shifted-labelled.csv"}
    pd.testing.assert_frame_equal(batches["stable.csv"], frame.drop(columns=["target"]))
    labelled = batches["shifted-labelled.csv"]
    assert labelled["target"].tolist() == frame["target"].tolist()


def test_the_shifted_batch_differs_in_one_numeric_and_one_categorical_column(frame, params):
    stable, shifted, _ = make_batches(frame, params).values()

    changed = [column for column in stable if not stable[column].equals(shifted[column])]
    assert changed == ["size", "colour"]
    assert shifted["size"].mean() > stable["size"].mean() + stable["size"].std()
    rarest = stable["colour"].value_counts().idxmin()
    assert (shifted["colour"] == rarest).mean() > 0.4


def test_a_table_without_categorical_inputs_cannot_be_shifted(params):
    numbers_only = synthetic_frame(params.task).drop(columns=["colour"])

    with pytest.raises(PipelineError, match="needs at least one numeric and one categorical input column"):
        columns_to_shift(numbers_only, params.data)
