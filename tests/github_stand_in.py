"""A recording stand-in for the parts of GitHub's REST API the generated workflows call.

Serves, on 127.0.0.1, for one repository: a commit's pull requests (with labels), issue
comments (CML), workflow artifacts (listed and zipped from the directory the upload-artifact
stand-in writes, $STAND_IN_ARTIFACTS), and releases (create, get by tag, upload, download and
delete assets), and, through GraphQL, a pull request by number and auto-merge asked for it
(the two calls of `gh pr merge --auto`). Downloads answer with a redirect to a "storage" path,
as GitHub does, and the test can check that the token did not follow it.
"""

from __future__ import annotations

import io
import json
import re
import threading
import urllib.parse
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class GitHubApi:
    """What the REST stand-in holds and saw."""

    repository: str
    artifacts_dir: Path | None = None
    pulls: dict[str, int] = field(default_factory=dict)  # commit -> PR number
    labels: dict[int, list[str]] = field(default_factory=dict)  # PR number -> label names
    comments: list[dict] = field(default_factory=list)
    releases: dict[str, dict] = field(default_factory=dict)  # tag -> release
    assets: dict[int, bytes] = field(default_factory=dict)  # asset id -> content
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, auth
    issues: list[dict] = field(default_factory=list)  # {"number", "labels": [{"name"}], "state"}
    pull_requests: list[dict] = field(default_factory=list)  # opened through the API
    repo_labels: list[dict] = field(default_factory=list)  # created through the API
    auto_merges: list[dict] = field(default_factory=list)  # {"number", "merge_method"} asked for

    def graphql(self, payload: dict) -> tuple[int, object]:
        """The GraphQL operations gh sends for `pr merge --auto`, told apart by their names."""
        query, variables = payload["query"], payload["variables"]
        if query.startswith("query PullRequestByNumber("):
            wanted = f"{variables['owner']}/{variables['repo']}"
            pull = next((p for p in self.pull_requests if p["number"] == variables["pr_number"]), None)
            if wanted != self.repository or pull is None:
                message = f"Could not resolve to a PullRequest with the number of {variables['pr_number']}."
                errors = [{"type": "NOT_FOUND", "message": message}]
                return 200, {"data": {"repository": None}, "errors": errors}
            found = {"id": pull["node_id"], "number": pull["number"], "state": pull["state"].upper()}
            return 200, {"data": {"repository": {"pullRequest": found}}}
        if query.startswith("mutation PullRequestAutoMerge("):
            wanted = variables["input"]
            pull = next(p for p in self.pull_requests if p["node_id"] == wanted["pullRequestId"])
            self.auto_merges.append({"number": pull["number"], "merge_method": wanted["mergeMethod"]})
            return 200, {"data": {"enablePullRequestAutoMerge": {"clientMutationId": None}}}
        known = "PullRequestByNumber and PullRequestAutoMerge"
        return 400, {"message": f"this stand-in answers gh's {known} only"}

    def pulls_route(
        self, command: str, route: str, query: dict, payload: object
    ) -> tuple[int, object] | None:
        """Pull requests and issues by label: (status, answer), or None for another route."""
        if route == "/issues" and command == "GET":
            wanted = set(query.get("labels", [""])[0].split(",")) - {""}
            return 200, [
                issue
                for issue in self.issues
                if issue.get("state", "open") == "open"
                and wanted <= {label["name"] for label in issue["labels"]}
            ]
        if route == "/pulls" and command == "GET":
            base = query.get("base", [None])[0]
            return 200, [pull for pull in self.pull_requests if base in (None, pull["base"]["ref"])]
        if route == "/pulls" and command == "POST":
            if any(pull["head"]["ref"] == payload["head"] for pull in self.pull_requests):
                return 422, {"message": "Validation Failed: A pull request already exists"}
            number = 200 + len(self.pull_requests)
            pull = {
                "number": number,
                "node_id": f"PR_{number}",
                "state": "open",
                "title": payload["title"],
                "body": payload["body"],
                "head": {"ref": payload["head"], "repo": {"full_name": self.repository}},
                "base": {"ref": payload["base"]},
                "labels": [],
            }
            self.pull_requests.append(pull)
            return 201, pull
        if match := re.fullmatch(r"/pulls/(\d+)", route):
            pull = next(pull for pull in self.pull_requests if pull["number"] == int(match[1]))
            if command == "PATCH":
                pull.update(payload)
            return 200, pull
        if (match := re.fullmatch(r"/issues/(\d+)/labels", route)) and command == "POST":
            pull = next(pull for pull in self.pull_requests if pull["number"] == int(match[1]))
            names = [label["name"] for label in pull["labels"]]
            pull["labels"] += [{"name": name} for name in payload["labels"] if name not in names]
            return 200, pull["labels"]
        return None

    def issues_route(self, command: str, route: str, payload: object) -> tuple[int, object] | None:
        """Labels and issues created or edited, as the drift issue needs: (status, answer), or None."""
        if route == "/labels" and command == "POST":
            if any(label["name"] == payload["name"] for label in self.repo_labels):
                return 422, {"message": "Validation Failed", "errors": [{"code": "already_exists"}]}
            self.repo_labels.append(payload)
            return 201, payload
        if route == "/issues" and command == "POST":
            number = 300 + len(self.issues)
            labels = [{"name": name} for name in payload.get("labels", [])]
            issue = {"number": number, "state": "open", "title": payload["title"], "body": payload["body"]}
            self.issues.append({**issue, "labels": labels})
            return 201, self.issues[-1]
        if (match := re.fullmatch(r"/issues/(\d+)", route)) and command == "PATCH":
            issue = next((issue for issue in self.issues if issue["number"] == int(match[1])), None)
            if issue is None:
                return 404, {"message": "Not Found"}
            issue.update(payload)
            return 200, issue
        return None

    def artifact_names(self) -> list[str]:
        """Every uploaded artifact, by name; its id is its position + 1."""
        if self.artifacts_dir is None or not self.artifacts_dir.is_dir():
            return []
        return sorted(path.name for path in self.artifacts_dir.iterdir() if path.is_dir())

    def artifact_zip(self, name: str) -> bytes:
        buffer = io.BytesIO()
        root = self.artifacts_dir / name
        with zipfile.ZipFile(buffer, "w") as packed:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    packed.write(path, path.relative_to(root).as_posix())
        return buffer.getvalue()

    def asset_named(self, tag: str, name: str) -> dict:
        return next(asset for asset in self.releases[tag]["assets"] if asset["name"] == name)


def handler_for(api: GitHubApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            """Quiet: the test reads `api.requests` instead."""

        def reply(self, status: int, payload: object) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def reply_bytes(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def redirect(self, location: str) -> None:
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def body(self) -> bytes:
            if not hasattr(self, "read_body"):  # read once: several routes may look at it
                self.read_body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            return self.read_body

        def payload(self) -> dict:
            return json.loads(self.body())

        def base(self) -> str:
            return f"http://{self.headers['Host']}"

        def handle_call(self) -> None:
            api.requests.append((self.command, self.path, self.headers.get("Authorization", "")))
            url = urllib.parse.urlsplit(self.path)
            path, query = urllib.parse.unquote(url.path), urllib.parse.parse_qs(url.query)
            if match := re.fullmatch(r"/storage/artifacts/(\d+)\.zip", path):
                return self.reply_bytes(api.artifact_zip(api.artifact_names()[int(match[1]) - 1]))
            if match := re.fullmatch(r"/storage/assets/(\d+)", path):
                return self.reply_bytes(api.assets[int(match[1])])
            if not self.headers.get("Authorization"):
                return self.reply(401, {"message": "Requires authentication"})
            if path == "/graphql" and self.command == "POST":
                return self.reply(*api.graphql(self.payload()))
            prefix = f"/repos/{api.repository}"
            uploads = f"/uploads{prefix}"
            if (match := re.fullmatch(rf"{uploads}/releases/(\d+)/assets", path)) and self.command == "POST":
                release = next(r for r in api.releases.values() if r["id"] == int(match[1]))
                asset_id = 500 + len(api.assets)
                api.assets[asset_id] = self.body()
                asset = {"id": asset_id, "name": query["name"][0], "size": len(api.assets[asset_id])}
                release["assets"].append(asset)
                return self.reply(201, asset)
            route = path.removeprefix(prefix) if path.startswith(prefix) else None
            if route is None:
                return self.reply(404, {"message": "Not Found"})
            payload = json.loads(self.body() or b"null") if self.command in {"POST", "PATCH"} else None
            if answer := api.pulls_route(self.command, route, query, payload):
                return self.reply(*answer)
            if answer := api.issues_route(self.command, route, payload):
                return self.reply(*answer)
            if match := re.fullmatch(r"/commits/(\w+)/pulls", route):
                number = api.pulls.get(match[1])
                if number is None:
                    return self.reply(200, [])
                labels = [{"name": name} for name in api.labels.get(number, [])]
                return self.reply(200, [{"number": number, "state": "open", "labels": labels}])
            if match := re.fullmatch(r"/issues/(\d+)/comments", route):
                if self.command == "GET":
                    return self.reply(200, [c for c in api.comments if c["issue"] == int(match[1])])
                comment = {"id": 1000 + len(api.comments), "issue": int(match[1]), **self.payload()}
                api.comments.append(comment)
                return self.reply(201, comment)
            if (match := re.fullmatch(r"/issues/comments/(\d+)", route)) and self.command == "PATCH":
                comment = next(c for c in api.comments if c["id"] == int(match[1]))
                comment.update(self.payload())
                return self.reply(200, comment)
            if route == "/actions/artifacts":
                wanted = query.get("name", [None])[0]
                found = [
                    {"id": index, "name": name, "expired": False, "created_at": "2026-01-01T00:00:00Z"}
                    for index, name in enumerate(api.artifact_names(), start=1)
                    if wanted in (None, name)
                ]
                return self.reply(200, {"total_count": len(found), "artifacts": found})
            if match := re.fullmatch(r"/actions/artifacts/(\d+)/zip", route):
                return self.redirect(f"{self.base()}/storage/artifacts/{match[1]}.zip")
            if route == "/releases" and self.command == "POST":
                tag = self.payload()["tag_name"]
                if tag in api.releases:
                    return self.reply(422, {"message": "Validation Failed: already_exists"})
                release_id = 100 + len(api.releases)
                api.releases[tag] = {
                    "id": release_id,
                    "tag_name": tag,
                    "assets": [],
                    "upload_url": f"{self.base()}{uploads}/releases/{release_id}/assets{{?name,label}}",
                }
                return self.reply(201, api.releases[tag])
            if match := re.fullmatch(r"/releases/tags/(.+)", route):
                release = api.releases.get(match[1])
                return self.reply(200, release) if release else self.reply(404, {"message": "Not Found"})
            if (match := re.fullmatch(r"/releases/assets/(\d+)", route)) and self.command == "DELETE":
                for release in api.releases.values():
                    release["assets"] = [asset for asset in release["assets"] if asset["id"] != int(match[1])]
                api.assets.pop(int(match[1]), None)
                self.send_response(204)
                self.end_headers()
                return None
            if match := re.fullmatch(r"/releases/assets/(\d+)", route):
                if self.headers.get("Accept") != "application/octet-stream":
                    return self.reply(415, {"message": "this stand-in serves assets as octet-stream only"})
                return self.redirect(f"{self.base()}/storage/assets/{match[1]}")
            return self.reply(404, {"message": "Not Found"})

        do_GET = do_POST = do_PATCH = do_DELETE = handle_call

    return Handler


@contextmanager
def serve(api: GitHubApi) -> Iterator[str]:
    """Serve the stand-in on 127.0.0.1; yield its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(api))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def github_url_rewrite(gitconfig: Path, repository: str, origin: Path) -> Path:
    """A git config that sends GitHub's URL of `repository` (with or without .git) to a bare origin."""
    gitconfig.write_text(
        f'[url "{origin}"]\n\tinsteadOf = https://github.com/{repository}\n'
        f"\tinsteadOf = https://github.com/{repository}.git\n"
    )
    return gitconfig
