#!/usr/bin/env python3
"""`cml comment update --target=pr FILE`: the REST calls CML makes, for the act tests.

Finds the pull request of the event's head commit, then edits the comment that carries the
watermark or, if there is none yet, adds one. Talks only to $STAND_IN_GITHUB_API.
"""

import argparse
import json
import os
import re
import sys
import urllib.request
from pathlib import Path

# CML's watermark (src/watermark.js): the commit's sha in the URL fragment, which later runs
# ignore when they look for the comment to update.
WATERMARK = '![](https://cml.dev/watermark.png#{sha} "CML watermark")'
FIND_WATERMARK = re.compile(r'!\[\]\(https://cml\.dev/watermark\.png#\w+ "CML watermark"\)')


def call(method, path, payload=None):
    request = urllib.request.Request(
        os.environ["STAND_IN_GITHUB_API"] + path,
        method=method,
        data=None if payload is None else json.dumps(payload).encode(),
        headers={"Authorization": f"token {os.environ['REPO_TOKEN']}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def main():
    parser = argparse.ArgumentParser(prog="cml")
    parser.add_argument("command", choices=["comment"])
    parser.add_argument("action", choices=["update"])
    parser.add_argument("--target", required=True, choices=["pr"])
    parser.add_argument("--publish", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("markdown")
    arguments = parser.parse_args()
    if arguments.publish:
        sys.exit("cml stand-in: --publish would upload images to a public host; these tests forbid it")
    event = json.loads(Path(os.environ["GITHUB_EVENT_PATH"]).read_text(encoding="utf-8"))
    repository, sha = os.environ["GITHUB_REPOSITORY"], event["pull_request"]["head"]["sha"]
    body = Path(arguments.markdown).read_text(encoding="utf-8") + "\n\n" + WATERMARK.format(sha=sha)
    number = call("GET", f"/repos/{repository}/commits/{sha}/pulls")[0]["number"]
    comments = call("GET", f"/repos/{repository}/issues/{number}/comments")
    mine = [comment for comment in comments if FIND_WATERMARK.search(comment["body"])]
    if mine:
        call("PATCH", f"/repos/{repository}/issues/comments/{mine[-1]['id']}", {"body": body})
    else:
        call("POST", f"/repos/{repository}/issues/{number}/comments", {"body": body})


if __name__ == "__main__":
    main()
