"""Reading a user's table: CSV options from params.yaml, errors that name the fix, Parquet."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from {{ cookiecutter.package_name }}.config import CsvParams, DataParams
from {{ cookiecutter.package_name }}.data.ingest import ingest
from {{ cookiecutter.package_name }}.data.reading import detect, parse_csv
from {{ cookiecutter.package_name }}.errors import PipelineError

from ..conftest import synthetic_frame

EUROPEAN = {"sep": ";", "encoding": "latin-1", "decimal": ","}


@pytest.fixture
def accented() -> pd.DataFrame:
    """The synthetic frame with names only latin-1 (not ASCII) can write."""
    frame = synthetic_frame("regression", rows=40)
    frame["colour"] = frame["colour"].map({"red": "rouge vif", "green": "vert forêt", "blue": "bleu ciel"})
    return frame


def test_a_semicolon_latin1_decimal_comma_file_is_detected(tmp_path, accented):
    accented.to_csv(tmp_path / "data.csv", index=False, **EUROPEAN)

    assert detect(tmp_path / "data.csv") == CsvParams(separator=";", encoding="latin-1", decimal=",")


def test_a_plain_csv_is_detected_as_the_defaults(tmp_path, accented):
    accented.to_csv(tmp_path / "data.csv", index=False)

    assert detect(tmp_path / "data.csv") == CsvParams()


def test_ingest_reads_with_the_configured_options(tmp_path, accented):
    accented.to_csv(tmp_path / "data.csv", index=False, **EUROPEAN)
    options = CsvParams(separator=";", encoding="latin-1", decimal=",")

    ingested = ingest(DataParams(source=str(tmp_path / "data.csv"), target="target", csv=options))

    pd.testing.assert_frame_equal(ingested, accented.reset_index(drop=True), check_dtype=False)


def test_a_latin1_file_read_as_utf8_names_the_encoding_to_set(tmp_path, accented):
    accented.to_csv(tmp_path / "data.csv", index=False, encoding="latin-1")

    with pytest.raises(PipelineError) as raised:
        ingest(DataParams(source=str(tmp_path / "data.csv"), target="target"))

    assert "is not utf-8 text" in str(raised.value)
    assert "set data.csv.encoding: latin-1 in params.yaml" in str(raised.value)


def test_a_semicolon_file_with_decimal_commas_names_the_separator_to_set(tmp_path):
    (tmp_path / "data.csv").write_text("size;colour\n2;red\n1,5;blue\n", encoding="utf-8")

    with pytest.raises(PipelineError) as raised:
        parse_csv(tmp_path / "data.csv", "data.csv", CsvParams())

    fix = 'it looks ";"-separated: set data.csv.separator: ";" in params.yaml'
    assert str(raised.value).startswith(f"data.csv could not be read as CSV ({fix})")


def test_an_unknown_encoding_is_refused_when_params_are_read():
    with pytest.raises(ValidationError, match="unknown encoding 'latin-9'"):
        CsvParams(encoding="latin-9")


def test_a_parquet_source_is_read_with_its_timestamps_as_iso_text(tmp_path, accented):
    accented = accented.fillna({"colour": "none"})  # Parquet gives a missing text None, not NaN
    days = pd.Series(pd.date_range("2024-01-01", periods=len(accented), freq="D"))
    stamped = accented.assign(ordered_on=days, paid_at=days + pd.Timedelta("9h30min"))
    stamped.to_parquet(tmp_path / "data.parquet")

    ingested = ingest(DataParams(source=str(tmp_path / "data.parquet"), target="target"))

    expected = accented.assign(
        ordered_on=days.dt.strftime("%Y-%m-%d"), paid_at=days.dt.strftime("%Y-%m-%d 09:30:00")
    )
    pd.testing.assert_frame_equal(ingested, expected.astype({"ordered_on": object, "paid_at": object}))


def test_a_file_that_is_not_parquet_is_refused_in_one_line(tmp_path):
    (tmp_path / "data.parquet").write_text("a,b\n1,2\n", encoding="utf-8")

    with pytest.raises(PipelineError, match=r"data.parquet could not be read as Parquet"):
        ingest(DataParams(source=str(tmp_path / "data.parquet"), target="b"))
