"""The one drift issue: found, read back for "drifting since", opened once and then only updated."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from {{ cookiecutter.package_name }}.cli import main

from ..conftest import served


class Issues:
    """GitHub's issues and labels of one repository, as far as the drift issue uses them."""

    def __init__(self) -> None:
        self.issues: list[dict] = []
        self.labels: list[str] = []
        self.calls: list[str] = []

    def answer(self, method: str, path: str, payload: dict | None) -> tuple[int, object]:
        route = path.removeprefix("/repos/team/churn").split("?")[0]
        self.calls.append(f"{method} {route}")
        if method == "GET" and route == "/issues":
            return 200, [issue for issue in self.issues if issue["state"] == "open"]
        if method == "POST" and route == "/labels":
            if payload["name"] in self.labels:
                return 422, {"message": "Validation Failed"}
            self.labels.append(payload["name"])
            return 201, payload
        if method == "POST" and route == "/issues":
            issue = {"number": len(self.issues) + 1, "state": "open", **payload}
            self.issues.append(issue)
            return 201, issue
        if method == "PATCH" and (match := re.fullmatch(r"/issues/(\d+)", route)):
            self.issues[int(match[1]) - 1].update(payload)
            return 200, self.issues[int(match[1]) - 1]
        return 500, {"message": "Server Error"}


@pytest.fixture
def github(monkeypatch) -> Iterator[Issues]:
    """A GitHub API on 127.0.0.1 that the command reaches through the usual environment."""
    issues = Issues()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            """Quiet."""

        def handle_call(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            payload = json.loads(self.rfile.read(length)) if length else None
            status, answer = issues.answer(self.command, self.path, payload)
            body = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PATCH = handle_call  # noqa: N815 the names http.server calls

    with served(Handler) as url:
        monkeypatch.setenv("GITHUB_API_URL", url)
        monkeypatch.setenv("GITHUB_REPOSITORY", "team/churn")
        monkeypatch.setenv("GITHUB_TOKEN", "token")
        yield issues


def test_the_drift_issue_is_opened_once_then_updated_and_read_back(github, tmp_path, capsys):
    body, previous = tmp_path / "issue.md", tmp_path / "previous.md"
    previous.write_text("left over from another run")

    assert main(["drift-issue", "previous", str(previous)]) == 0
    assert not previous.exists()  # none open: drift, if found, starts now
    body.write_text("first report\n<!-- drift-since: 2026-01-05T06:23:00Z -->\n")
    assert main(["drift-issue", "publish", str(body)]) == 0
    body.write_text("second report\n<!-- drift-since: 2026-01-05T06:23:00Z -->\n")
    assert main(["drift-issue", "publish", str(body)]) == 0
    assert main(["drift-issue", "previous", str(previous)]) == 0

    assert [issue["number"] for issue in github.issues] == [1]
    assert github.issues[0]["labels"] == ["drift"]
    assert github.labels == ["drift"]
    assert previous.read_text() == body.read_text()
    assert github.calls.count("POST /issues") == 1
    assert github.calls.count("PATCH /issues/1") == 1
    assert capsys.readouterr().out.splitlines() == [
        "drift-issue: none is open",
        "drift-issue: opened #1",
        "drift-issue: updated #1",
        "drift-issue: #1 is open: its date of first drift carries over",
    ]


def test_a_label_the_repository_has_already_is_kept(github, tmp_path):
    github.labels.append("drift")
    body = tmp_path / "issue.md"
    body.write_text("report\n")

    assert main(["drift-issue", "publish", str(body)]) == 0

    assert github.issues[0]["body"] == "report\n"


def test_without_a_report_nothing_is_sent_and_the_error_says_what_to_run(github, tmp_path, capsys):
    assert main(["drift-issue", "publish", str(tmp_path / "issue.md")]) == 1

    error = capsys.readouterr().err
    assert error.startswith("drift-issue: error: no issue body at ")
    assert error.rstrip().endswith("run `make monitor` first")
    assert github.calls == []
