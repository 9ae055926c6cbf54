import io

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.serving.batch import score_file
from {{ cookiecutter.package_name }}.serving.checks import RequestChecks

from .helpers import client, records, service, trained


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    return trained("classification", tmp_path_factory.mktemp("serving"), batch_rows=7)


def checks(setup):
    data = setup.params.data
    return RequestChecks(setup.schema, setup.model.features, data.drop_columns, data.target)


def test_a_file_is_scored_in_chunks_skipping_bad_rows_like_the_api(setup, tmp_path):
    frame = setup.frame.head(20).copy()
    frame.loc[12, "count"] = 99  # row 13 of the file, line 14
    frame.to_csv(tmp_path / "in.csv", index=False)
    errors = io.StringIO()

    summary = score_file(
        tmp_path / "in.csv", tmp_path / "out.csv", setup.model, checks(setup), setup.params, errors
    )

    assert (summary.rows, summary.scored, summary.skipped) == (20, 19, 1)
    assert errors.getvalue() == "predict: row 13 (line 14) skipped: count: max (expected ≤ 9)\n"
    out = pd.read_csv(tmp_path / "out.csv")
    assert list(out["row"]) == [n for n in range(1, 21) if n != 13]
    assert set(out["model_version"]) == {"v1.0.0"}
    api = client(service(setup, log=False)).post("/predict", json=records(frame.drop(index=12), 19)).json()
    assert list(out["predicted_target"]) == api["predictions"]
    assert list(out["probability_high"]) == pytest.approx(
        [p["high"] for p in api["probabilities"]], abs=1e-12
    )
    assert list(out["row_id"]) == list(frame.drop(index=12)["row_id"])


def test_refuse_mode_writes_nothing(setup, tmp_path):
    refusing = setup.params.model_copy(
        update={"serving": setup.params.serving.model_copy(update={"bad_rows": "refuse"})}
    )
    frame = setup.frame.head(10).copy()
    frame.loc[3, "colour"] = "purple"
    frame.to_csv(tmp_path / "in.csv", index=False)

    with pytest.raises(PipelineError, match=r"refused .*colour: allowed"):
        score_file(
            tmp_path / "in.csv", tmp_path / "out.csv", setup.model, checks(setup), refusing, io.StringIO()
        )
    assert not (tmp_path / "out.csv").exists()


def test_a_file_without_a_feature_column_is_refused(setup, tmp_path):
    setup.frame.drop(columns=["size"]).to_csv(tmp_path / "in.csv", index=False)

    with pytest.raises(PipelineError, match="size: required"):
        score_file(
            tmp_path / "in.csv", tmp_path / "out.csv", setup.model, checks(setup), setup.params, io.StringIO()
        )


def test_a_semicolon_file_is_named_as_such_not_as_one_unexpected_column(setup, tmp_path):
    setup.frame.head(5).to_csv(tmp_path / "in.csv", index=False, sep=";")

    with pytest.raises(PipelineError, match=r"in\.csv is not comma-separated \(the whole header is one"):
        score_file(
            tmp_path / "in.csv", tmp_path / "out.csv", setup.model, checks(setup), setup.params, io.StringIO()
        )
    assert not (tmp_path / "out.csv").exists()
