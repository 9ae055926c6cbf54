"""GitHub's REST API client: the token never follows a redirect, and errors name the call."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.errors import PipelineError
from {{ cookiecutter.package_name }}.repo.github import GitHub

from ..conftest import served


@pytest.fixture
def api() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """A server with one JSON route, one redirected download and a 404; it records the auth it saw."""
    seen: list[tuple[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            """Quiet."""

        def do_GET(self) -> None:
            seen.append((self.path, self.headers.get("Authorization", "")))
            if self.path == "/repos/o/r/releases/tags/v1":
                body, status = json.dumps({"id": 1}).encode(), 200
            elif self.path == "/repos/o/r/releases/assets/1":
                self.send_response(302)
                self.send_header("Location", "/storage/asset?signature=secret")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            elif self.path.startswith("/storage/"):
                body, status = b"model bytes", 200
            else:
                body, status = json.dumps({"message": "Not Found"}).encode(), 404
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with served(Handler) as url:
        yield url, seen


def test_json_calls_and_downloads_send_the_token_to_the_api_only(api, tmp_path: Path):
    url, seen = api
    github = GitHub(url, "o/r", "secret-token")

    assert github.json("GET", "/releases/tags/v1") == {"id": 1}
    github.download("/releases/assets/1", tmp_path / "model")

    assert (tmp_path / "model").read_bytes() == b"model bytes"
    assert seen[0][1] == seen[1][1] == "Bearer secret-token"
    assert seen[2] == ("/storage/asset?signature=secret", "")


def test_an_error_names_the_call_and_githubs_message(api):
    url, _ = api

    with pytest.raises(PipelineError, match=r"GET /repos/o/r/releases/tags/v9 answered 404: Not Found"):
        GitHub(url, "o/r", "t").json("GET", "/releases/tags/v9")


def test_the_environment_must_name_the_repository_and_a_token(monkeypatch):
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    with pytest.raises(PipelineError, match="GITHUB_REPOSITORY is not set"):
        GitHub.from_env()
    monkeypatch.setenv("GITHUB_REPOSITORY", "o/r")
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.setenv("GH_TOKEN", "t")
    monkeypatch.delenv("GITHUB_API_URL", raising=False)

    assert GitHub.from_env() == GitHub("https://api.github.com", "o/r", "t")
