import tempfile
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import DataParams, DownloadParams
from {{ cookiecutter.package_name }}.data.ingest import ingest, ingest_source
from {{ cookiecutter.package_name }}.errors import PipelineError

from ..conftest import served, synthetic_frame


@pytest.fixture
def csv_server(tmp_path: Path) -> Iterator[str]:
    """Serve tmp_path over http on 127.0.0.1 for the length of one test."""

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, *args):
            pass

    with served(Handler) as url:
        yield url


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


@pytest.fixture
def awkward_server() -> Iterator[str]:
    """A server on 127.0.0.1 with a body of unknown length (/big) and one that trickles (/trickle)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()  # no Content-Length: the body ends when the connection closes
            try:
                if self.path == "/big":
                    for _ in range(100):  # 100 x 10 kB
                        self.wfile.write(b"a,target\n" + b"1,2\n" * 2500)
                else:
                    self.wfile.write(b"a,target\n")
                    for _ in range(50):  # a byte every 0.1 s, 5 s at most
                        time.sleep(0.1)
                        self.wfile.write(b"1")
                        self.wfile.flush()
            except OSError:  # the client gave up: the point of the test
                pass

        def log_message(self, *args):
            pass

    with served(Handler) as url:
        yield url


@pytest.fixture
def temporary_folder(tmp_path, monkeypatch) -> Path:
    """Where downloads go while they run, to check that none is left behind."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_a_body_over_the_size_cap_is_refused_naming_the_cap_and_url(awkward_server, temporary_folder):
    url = f"{awkward_server}/big"
    limits = DownloadParams(max_bytes=50_000, timeout_seconds=30)

    with pytest.raises(PipelineError, match=r"could not fetch .*/big: .*data\.download\.max_bytes \(50,000"):
        ingest(data_params(url, download=limits))

    assert list(temporary_folder.iterdir()) == []


def test_a_declared_length_over_the_cap_is_refused_before_the_body(tmp_path, csv_server, temporary_folder):
    synthetic_frame("regression").to_csv(tmp_path / "source.csv", index=False)

    with pytest.raises(PipelineError, match=r"max_bytes \(100 bytes\)"):
        ingest(data_params(f"{csv_server}/source.csv", download=DownloadParams(max_bytes=100)))

    assert list(temporary_folder.iterdir()) == []


def test_a_trickling_server_is_given_up_on_at_the_deadline(awkward_server, temporary_folder):
    limits = DownloadParams(timeout_seconds=0.5)
    started = time.monotonic()

    with pytest.raises(PipelineError, match=r"/trickle: not complete within data\.download\.timeout_seconds"):
        ingest(data_params(f"{awkward_server}/trickle", download=limits))

    assert time.monotonic() - started < 2
    assert list(temporary_folder.iterdir()) == []


def test_a_download_within_the_limits_leaves_no_temporary_file(tmp_path, csv_server, temporary_folder):
    synthetic_frame("regression").to_csv(tmp_path / "source.csv", index=False)
    limits = DownloadParams(max_bytes=1_000_000, timeout_seconds=10)

    assert len(ingest(data_params(f"{csv_server}/source.csv", download=limits))) == 160
    assert list(temporary_folder.iterdir()) == []


def test_a_parquet_url_is_downloaded_and_read(tmp_path, csv_server):
    frame = synthetic_frame("regression").fillna({"colour": "none"})  # Parquet: a missing text is None
    frame.to_parquet(tmp_path / "data.parquet", index=False)

    ingested = ingest(DataParams(source=f"{csv_server}/data.parquet?version=2", target="target"))

    pd.testing.assert_frame_equal(ingested, frame)
