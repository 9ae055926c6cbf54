import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data.schema import (
    infer_max_missing,
    infer_schema,
    load_schema,
    main,
    schema_text,
)
from {{ cookiecutter.package_name }}.data.validate import validate
from {{ cookiecutter.package_name }}.errors import PipelineError


def test_an_inferred_schema_round_trips_and_accepts_its_own_data(frame, params):
    params.paths.data_schema.write_text(schema_text(infer_schema(frame, params.data, params.task)))

    schema = load_schema(params.paths.data_schema)

    assert validate(frame, schema, params) == []
    assert schema.columns["row_id"].unique
    assert schema.columns["colour"].allowed == ("blue", "green", "red")
    assert schema.columns["colour"].nullable
    assert schema.columns["count"].dtype == "integer"
    assert schema.columns["size"].dtype == "number"
    assert schema.columns["size"].max_missing > frame["size"].isna().mean()
    assert schema.columns["count"].max_missing is None  # not nullable says more


def test_each_column_is_one_reviewable_line(frame, params):
    text = schema_text(infer_schema(frame, params.data, params.task))

    assert "  colour: {dtype: string, nullable: true, max_missing: 0.19, allowed: [blue, green, red]}" in text


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


@pytest.mark.parametrize(
    ("observed", "bound"),
    [(0.0, 0.1), (0.02, 0.12), (0.3, 0.4), (0.9, 0.95), (0.97, 0.97), (0.123, 0.23)],
)
def test_max_missing_is_the_observed_share_with_headroom_below_one(observed, bound):
    assert infer_max_missing(observed) == bound


def test_max_missing_can_be_listed_as_soft(tmp_path):
    path = tmp_path / "schema.yaml"
    path.write_text(
        "dataset: {min_rows: 1}\ncolumns:\n  size: {dtype: number, max_missing: 0.3, soft: [max_missing]}"
    )

    assert load_schema(path).columns["size"].soft == ("max_missing",)


@pytest.fixture
def schema_command(params, monkeypatch):
    """Run `make schema`'s command against params' source; return what it raised."""
    monkeypatch.setattr("{{ cookiecutter.package_name }}.data.schema.load_params", lambda: params)

    def run(frame, **to_csv):
        frame.to_csv(params.data.source, index=False, **to_csv)
        with pytest.raises(PipelineError) as raised:
            main()
        return str(raised.value)

    return run


def test_make_schema_without_the_target_column_says_what_to_set(frame, schema_command, params):
    message = schema_command(frame.drop(columns=["target"]))

    assert message.startswith(f"data.target 'target' is not a column of {params.data.source}")
    assert "set data.target in params.yaml" in message
    assert not params.paths.data_schema.exists()


def test_make_schema_on_a_semicolon_file_names_the_delimiter(frame, schema_command):
    message = schema_command(frame, sep=";")

    assert "is not comma-separated" in message
    assert 'set data.csv.separator: ";" in params.yaml' in message


def test_make_schema_names_a_duplicate_column(frame, schema_command):
    message = schema_command(frame, header=["row_id", "size", "size", "colour", "target"])

    assert message.startswith("duplicate column 'size' in ")


def test_make_schema_refuses_a_target_with_one_value_which_validate_would_always_refuse(
    frame, schema_command, params
):
    single = schema_command(frame.assign(target=7))
    one_row = schema_command(frame.head(1))

    assert single.startswith(f"data.target 'target' is 7 in all {len(frame)} rows of ")
    assert single.endswith("a model needs at least two different target values to learn from")
    assert "in its only row of " in one_row
    assert not params.paths.data_schema.exists()


def test_make_schema_warns_about_an_empty_column(frame, params, monkeypatch, capsys):
    monkeypatch.setattr("{{ cookiecutter.package_name }}.data.schema.load_params", lambda: params)
    frame.assign(size=np.nan).to_csv(params.data.source, index=False)

    main()

    assert "schema: warning: size has no values" in capsys.readouterr().err
    assert params.paths.data_schema.exists()


def dated(frame, start="2024-01-01", as_text=True):
    """The frame with an order date: 20 distinct days, few enough to have made a category list;
    as ISO text (a CSV) or as timestamps (a Parquet file)."""
    days = pd.date_range(start, periods=20, freq="D")
    days = days.strftime("%Y-%m-%d") if as_text else days
    return frame.assign(ordered_on=[days[i % 20] for i in range(len(frame))])


@pytest.mark.parametrize("as_text", [True, False], ids=["csv-text", "parquet-timestamps"])
def test_a_date_column_is_a_datetime_with_soft_bounds_not_a_list_of_strings(frame, params, as_text):
    inferred = infer_schema(dated(frame, as_text=as_text), params.data, params.task)
    params.paths.data_schema.write_text(schema_text(inferred))

    rules = load_schema(params.paths.data_schema).columns["ordered_on"]

    bounds = (rules.dtype, rules.min, rules.max, rules.allowed)
    assert bounds == ("datetime", "2024-01-01", "2024-01-20", None)
    assert rules.soft == ("min", "max")


def test_next_years_dates_warn_and_a_date_that_does_not_parse_fails(frame, params):
    schema_file = params.paths.data_schema
    schema_file.write_text(schema_text(infer_schema(dated(frame), params.data, params.task)))
    later = dated(frame, start="2025-01-01")
    later.loc[3, "ordered_on"] = "31/12/2024"

    failures = validate(later, load_schema(schema_file), params)

    found = {(f.column, f.check, f.severity) for f in failures}
    assert found == {("ordered_on", "max", "soft"), ("ordered_on", "dtype", "hard")}
    assert next(f for f in failures if f.check == "dtype").examples == ["'31/12/2024'"]


def test_a_datetime_bound_must_be_a_date(tmp_path):
    path = tmp_path / "schema.yaml"
    rules = "{dtype: datetime, min: 2024-01-01, max: soon}"  # an unquoted date is a YAML date
    path.write_text("dataset: {min_rows: 1}\ncolumns:\n  day: " + rules + "\n")

    with pytest.raises(PipelineError, match=r"columns.day: .*max: a datetime column's bound is an ISO date"):
        load_schema(path)
