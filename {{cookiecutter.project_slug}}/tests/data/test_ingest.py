import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.config import DataParams
from {{ cookiecutter.package_name }}.data.ingest import ingest, ingest_source
from {{ cookiecutter.package_name }}.errors import PipelineError

from ..conftest import synthetic_frame


@pytest.fixture
def csv_server(tmp_path: Path) -> Iterator[str]:
    """Serve tmp_path over http on 127.0.0.1 for the length of one test."""

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def data_params(source: Path | str, **overrides) -> DataParams:
    return DataParams(source=str(source), target=overrides.pop("target", "target"), **overrides)


def test_a_local_csv_is_read_and_rows_without_a_target_are_dropped(tmp_path):
    frame = synthetic_frame("regression")
    frame.loc[:4, "target"] = None
    frame.to_csv(tmp_path / "data.csv", index=False)

    ingested = ingest(data_params(tmp_path / "data.csv"))

    assert len(ingested) == len(frame) - 5
    assert ingested["target"].notna().all()
    assert ingest_source(data_params(tmp_path / "data.csv")).without_target == 5


def test_duplicate_column_names_are_kept_as_the_header_writes_them(tmp_path):
    frame = synthetic_frame("regression")
    header = ["row_id", "size", "size", "colour", "target"]
    frame.to_csv(tmp_path / "data.csv", index=False, header=header)

    assert list(ingest(data_params(tmp_path / "data.csv")).columns) == header


def test_a_csv_is_fetched_over_http(tmp_path, csv_server):
    synthetic_frame("classification").to_csv(tmp_path / "data.csv", index=False)

    ingested = ingest(data_params(f"{csv_server}/data.csv"))

    assert list(ingested.columns) == ["row_id", "size", "count", "colour", "target"]


def test_a_url_that_cannot_be_fetched_gives_the_http_status(csv_server):
    with pytest.raises(PipelineError, match=r"could not fetch .*/missing\.csv: HTTP 404"):
        ingest(data_params(f"{csv_server}/missing.csv"))


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(PipelineError, match=r"no such file: .*nowhere\.csv"):
        ingest(data_params(tmp_path / "nowhere.csv"))


def test_an_empty_file_is_an_empty_table_for_validate_to_report(tmp_path):
    (tmp_path / "empty.csv").write_text("\n")

    assert ingest(data_params(tmp_path / "empty.csv")).empty


def test_a_file_that_is_not_csv_is_refused(tmp_path):
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00\x81" * 50)

    with pytest.raises(PipelineError, match="could not be read as CSV"):
        ingest(data_params(tmp_path / "binary.csv"))


def test_data_without_the_target_is_kept_whole_for_validate_to_report(tmp_path):
    synthetic_frame("classification").to_csv(tmp_path / "data.csv", index=False)

    ingested = ingest(data_params(tmp_path / "data.csv", target="label"))

    assert len(ingested) == 160
    assert "label" not in ingested
