import pytest

from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.schema import infer_schema, load_schema, schema_text
from {{ cookiecutter.package_name }}.validate import validate


def test_an_inferred_schema_round_trips_and_accepts_its_own_data(frame, params):
    params.paths.data_schema.write_text(schema_text(infer_schema(frame, params.data, params.task)))

    schema = load_schema(params.paths.data_schema)

    assert validate(frame, schema, params) == []
    assert schema.columns["row_id"].unique
    assert schema.columns["colour"].allowed == ("blue", "green", "red")
    assert schema.columns["colour"].nullable
    assert schema.columns["count"].dtype == "integer"
    assert schema.columns["size"].dtype == "number"


def test_each_column_is_one_reviewable_line(frame, params):
    text = schema_text(infer_schema(frame, params.data, params.task))

    assert "  colour: {dtype: string, nullable: true, allowed: [blue, green, red]}" in text


def test_a_missing_schema_says_how_to_make_one(tmp_path):
    with pytest.raises(PipelineError, match="run `make schema` to infer one"):
        load_schema(tmp_path / "schema.yaml")


def test_a_misspelled_rule_is_named(tmp_path):
    path = tmp_path / "schema.yaml"
    path.write_text("dataset: {min_rows: 1}\ncolumns:\n  size: {dtype: number, maximum: 3}\n")

    with pytest.raises(PipelineError, match=r"columns\.size\.maximum: Extra inputs are not permitted"):
        load_schema(path)


def test_an_unknown_check_cannot_be_made_soft(tmp_path):
    path = tmp_path / "schema.yaml"
    path.write_text("dataset: {min_rows: 1}\ncolumns:\n  size: {dtype: number, soft: [range]}\n")

    with pytest.raises(PipelineError, match=r"columns\.size\.soft\.0: Input should be 'dtype'"):
        load_schema(path)
