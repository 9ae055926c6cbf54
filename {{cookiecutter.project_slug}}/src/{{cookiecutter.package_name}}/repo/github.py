"""GitHub's REST API, the few calls the project makes, with the standard library only.

The API's address comes from GITHUB_API_URL (GitHub Enterprise sets it; default
https://api.github.com), the token from GITHUB_TOKEN or GH_TOKEN, the repository (owner/name)
from GITHUB_REPOSITORY: a workflow step has all three. Every failure is a PipelineError that
names the method, the path and GitHub's status and message.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..errors import PipelineError

DEFAULT_API = "https://api.github.com"
TIMEOUT = 60  # seconds per request
MAX_JSON = 16 << 20  # bytes: no answer we read as JSON is anywhere near this
REDIRECTS = 3


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are followed by hand, so the token never travels to the storage host."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


OPENER = urllib.request.build_opener(NoRedirect)


class GitHubError(PipelineError):
    """GitHub answered with an error status (kept, so that a caller can treat 404 as "none")."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class GitHub:
    """One repository on one GitHub API, with a token."""

    api: str
    repository: str
    token: str

    @classmethod
    def from_env(cls) -> GitHub:
        """The repository of the workflow run (or of the environment a developer sets)."""
        repository = os.environ.get("GITHUB_REPOSITORY", "")
        token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN") or ""
        if "/" not in repository:
            raise PipelineError("GITHUB_REPOSITORY is not set: set it to OWNER/NAME to reach GitHub's API")
        if not token:
            raise PipelineError("neither GITHUB_TOKEN nor GH_TOKEN is set: GitHub's API needs a token")
        return cls(os.environ.get("GITHUB_API_URL") or DEFAULT_API, repository, token)

    def url(self, path: str) -> str:
        """An absolute URL for a path under the repository (`/releases`) or the API (`//user`)."""
        if path.startswith(("http://", "https://")):
            return path
        under = path[1:] if path.startswith("//") else f"/repos/{self.repository}{path}"
        return self.api.rstrip("/") + under

    def open(
        self, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> http.client.HTTPResponse:
        """Send one request; follow up to REDIRECTS redirects without the token; return the response."""
        url = self.url(path)
        sent = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self.token}",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "model-registry",
            **(headers or {}),
        }
        for _ in range(REDIRECTS + 1):
            request = urllib.request.Request(url, data=body, method=method, headers=sent)  # noqa: S310
            try:
                return OPENER.open(request, timeout=TIMEOUT)
            except urllib.error.HTTPError as error:
                if error.code in {301, 302, 303, 307, 308} and error.headers.get("Location"):
                    url = urllib.parse.urljoin(url, error.headers["Location"])
                    sent = {key: value for key, value in sent.items() if key != "Authorization"}
                    if error.code == 303:
                        method, body = "GET", None
                    continue
                raise GitHubError(
                    f"GitHub API: {method} {self.shown(path)} answered {error.code}: {message_of(error)}",
                    error.code,
                ) from error
            except (urllib.error.URLError, TimeoutError, OSError) as error:
                reason = getattr(error, "reason", error)
                raise PipelineError(f"GitHub API: {method} {self.shown(path)} failed: {reason}") from error
        raise PipelineError(f"GitHub API: {method} {self.shown(path)}: more than {REDIRECTS} redirects")

    def shown(self, path: str) -> str:
        """How a request is named in errors: the API path, never a signed storage URL's query."""
        return urllib.parse.urlsplit(self.url(path)).path

    def json(self, method: str, path: str, payload: object = None) -> object:
        """A JSON call; `payload` is sent as the JSON body."""
        body = None if payload is None else json.dumps(payload).encode()
        with self.open(method, path, body=body, headers={"Content-Type": "application/json"}) as response:
            text = response.read(MAX_JSON + 1)
        if len(text) > MAX_JSON:
            raise PipelineError(f"GitHub API: {method} {self.shown(path)} answered over {MAX_JSON} bytes")
        return json.loads(text) if text.strip() else None

    def download(self, path: str, destination: Path, accept: str = "application/octet-stream") -> Path:
        """Stream a response's body (an artifact zip, a release asset) into a file."""
        destination.parent.mkdir(parents=True, exist_ok=True)
        with self.open("GET", path, headers={"Accept": accept}) as response, destination.open("wb") as out:
            shutil.copyfileobj(response, out, 1 << 20)
        return destination

    def upload(self, upload_url: str, file: Path, name: str) -> object:
        """Upload a file as a release asset, to the release's `upload_url` (a URI template)."""
        url = upload_url.split("{", 1)[0] + "?" + urllib.parse.urlencode({"name": name})
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(file.stat().st_size)}
        with self.open("POST", url, body=file.read_bytes(), headers=headers) as response:
            return json.loads(response.read(MAX_JSON) or b"null")


def run_url() -> str | None:
    """This workflow run's page on GitHub, which lists its artifacts; None outside GitHub Actions."""
    server, repository, run_id = (
        os.environ.get(name) for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    return f"{server}/{repository}/actions/runs/{run_id}" if server and repository and run_id else None


def message_of(error: urllib.error.HTTPError) -> str:
    """GitHub's `message` from an error response, else its reason phrase."""
    try:
        return json.loads(error.read(65536) or b"{}").get("message") or error.reason
    except (ValueError, AttributeError, OSError):
        return str(error.reason)
