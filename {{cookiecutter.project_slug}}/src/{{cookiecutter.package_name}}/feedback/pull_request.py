"""The retraining pull request on GitHub: found by its branch prefix, so there is only ever one."""

from __future__ import annotations

import urllib.parse

from ..repo.github import GitHub

BRANCH_PREFIX = "retrain/"
RETRAIN_LABEL = "retrain"


def open_retrain_pull(github: GitHub, base: str) -> dict | None:
    """The open pull request from a `retrain/` branch of this repository into `base`, if any."""
    query = urllib.parse.urlencode({"state": "open", "base": base, "per_page": 100})
    for pull in github.json("GET", f"/pulls?{query}") or []:
        head = pull.get("head", {})
        if (
            head.get("ref", "").startswith(BRANCH_PREFIX)
            and (head.get("repo") or {}).get("full_name") == github.repository
        ):
            return pull
    return None


def open_or_update(
    github: GitHub, existing: dict | None, branch: str, base: str, title: str, body: str, labels: list[str]
) -> int:
    """Update the one retraining pull request, or open it; return its number."""
    if existing is not None:
        number = int(existing["number"])
        github.json("PATCH", f"/pulls/{number}", {"title": title, "body": body})
    else:
        pull = github.json("POST", "/pulls", {"title": title, "head": branch, "base": base, "body": body})
        number = int(pull["number"])
    github.json("POST", f"/issues/{number}/labels", {"labels": [RETRAIN_LABEL, *labels]})
    return number
