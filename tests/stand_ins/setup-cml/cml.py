#!/usr/bin/env python3
"""`cml comment update --target=pr FILE` and `cml runner launch`, as CML v0.20.6 does them, for the
act tests.

`comment update` finds the pull request of the event's head commit, then edits the comment
that carries the watermark or, if there is none yet, adds one. Talks only to
$STAND_IN_GITHUB_API.

`runner launch` takes the options CML's bin/cml/runner/launch.js defines (an unknown one is an
error, as in CML's strict parser), checks the token and the cloud's credentials it would need,
and appends what it was asked for, as one JSON line, to $STAND_IN_CML_RECORD: no machine starts.
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


# The credentials terraform-provider-iterative reads for each cloud (names only are recorded).
CLOUD_CREDENTIALS = {
    "aws": ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
    "gcp": ["GOOGLE_APPLICATION_CREDENTIALS_DATA"],
    "azure": ["AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_SUBSCRIPTION_ID", "AZURE_TENANT_ID"],
}
DURATION = re.compile(r"-?\d+|never|(\d+(\.\d+)?\s*[a-z]+\s*)+")  # seconds, or timestring's "15min"


def comment_update(arguments):
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


def runner_launch(arguments, argv):
    if sum([arguments.single, arguments.reuse, arguments.reuse_idle]) > 1:
        sys.exit("cml stand-in: --single, --reuse and --reuse-idle conflict")
    if not DURATION.fullmatch(arguments.idle_timeout):
        sys.exit(f"cml stand-in: --idle-timeout {arguments.idle_timeout!r} is not a duration")
    if not (arguments.token or os.environ.get("REPO_TOKEN")):
        sys.exit("cml stand-in: no token to register the runner (--token or REPO_TOKEN)")
    needed = CLOUD_CREDENTIALS.get(arguments.cloud, [])
    missing = [name for name in needed if not os.environ.get(name)]
    if missing:
        sys.exit(f"cml stand-in: {arguments.cloud} needs {', '.join(missing)}")
    record = {"argv": argv, "options": vars(arguments), "credentials": needed}
    with Path(os.environ["STAND_IN_CML_RECORD"]).open("a", encoding="utf-8") as out:
        out.write(json.dumps(record) + "\n")


def launch_options(launch):
    """The options of CML v0.20.6's `runner launch` (bin/cml/runner/launch.js), and the global ones."""
    for name in ["name", "workdir", "cloud-region", "cloud-type", "cloud-permission-set",
                 "cloud-gpu", "cloud-ssh-private", "cloud-startup-script", "cloud-aws-security-group",
                 "cloud-aws-subnet", "driver", "repo", "token", "log"]:  # fmt: skip
        launch.add_argument(f"--{name}")
    for name in ["no-retry", "single", "reuse", "reuse-idle", "cloud-spot"]:
        launch.add_argument(f"--{name}", action="store_true")
    launch.add_argument("--labels", default="cml")
    launch.add_argument("--idle-timeout", default="5 minutes")
    launch.add_argument("--cloud", choices=["aws", "azure", "gcp", "kubernetes"])
    launch.add_argument("--cloud-hdd-size", type=int)
    launch.add_argument("--cloud-spot-price", type=float, default=-1)
    launch.add_argument("--cloud-metadata", action="append", default=[])
    launch.add_argument("--docker-volumes", action="append", default=[])


def main():
    parser = argparse.ArgumentParser(prog="cml")
    commands = parser.add_subparsers(dest="command", required=True)
    comment = commands.add_parser("comment").add_subparsers(dest="action", required=True)
    update = comment.add_parser("update")
    update.add_argument("--target", required=True, choices=["pr"])
    update.add_argument("--publish", action=argparse.BooleanOptionalAction, default=True)
    update.add_argument("markdown")
    runner = commands.add_parser("runner").add_subparsers(dest="action", required=True)
    launch_options(runner.add_parser("launch", allow_abbrev=False))
    arguments = parser.parse_args()
    if arguments.command == "comment":
        comment_update(arguments)
    else:
        runner_launch(arguments, sys.argv[1:])


if __name__ == "__main__":
    main()
