"""`make demo`: generate a project with default answers and walk through its whole loop.

Set up, train, open a pull request that changes a parameter (and show the comment CI would
post on it), merge it, register the model, promote it to staging as a canary beside the first
version, serve it (a bad request, the canary split) and report on the rollout. GitHub's side is played by
a bare repository on disk as `origin`, and the DVC remote is a directory beside it.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
SUPPORTED_PYTHONS = ("3.10", "3.11", "3.12", "3.13")
BOT = ["-c", "user.name=Demo User", "-c", "user.email=demo@example.com"]


def step(title: str) -> None:
    """Announce a step so the demo reads as a story in the terminal."""
    print(f"\n\033[1m==> {title}\033[0m", flush=True)


def run(*command: str, cwd: Path, env: dict[str, str] | None = None) -> None:
    """Run a command as the user would type it, showing it first, stopping the demo if it fails."""
    print(f"$ {' '.join(command)}", flush=True)
    subprocess.run(command, cwd=cwd, check=True, env={**os.environ, **(env or {})})


def git(*arguments: str, cwd: Path) -> None:
    """git with a fixed identity, so the demo works on a machine where none is configured."""
    run("git", *BOT, *arguments, cwd=cwd)


def python_answer() -> str:
    """Generate for the Python running the demo, so uv finds it without downloading one."""
    current = f"{sys.version_info.major}.{sys.version_info.minor}"
    return current if current in SUPPORTED_PYTHONS else "3.11"


def change_param(params: Path, key: str, old: str, new: str) -> None:
    """Edit one value of params.yaml in place, as a person would, keeping its comments."""
    text = params.read_text()
    params.write_text(re.sub(rf"(\n\s+{key}: ){old}\n", rf"\g<1>{new}\n", text, count=1))
    print(f"# params.yaml: {key} {old} -> {new}")


def serve_stage(params: Path, stage: str, settings: str) -> None:
    """Set how params.yaml's serving section serves one stage, in place, keeping its comments."""
    text = re.sub(rf"(?m)^(    {stage}: )\{{.*\}}$", rf"\g<1>{settings}", params.read_text(), count=1)
    params.write_text(text)
    print(f"# params.yaml: serving.stages.{stage} -> {settings}")


def serve_canary(project: Path) -> None:
    """Start `make serve STAGE=staging`, send requests, show the split and the report; always stop it."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` stops the server
    log = project.parent / "serve.log"
    print(f"$ make serve STAGE=staging PORT={port} > {log.name} &", flush=True)
    with log.open("w") as output:
        server = subprocess.Popen(
            ["make", "serve", "STAGE=staging", f"PORT={port}"],
            cwd=project,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_ready(server, base)
        print(
            "".join(line for line in log.read_text().splitlines(keepends=True) if line.startswith("serve:"))
        )
        rows = test_rows(project)
        show_request(base, rows[:2], "two good rows")
        show_request(base, [{**rows[0], "contract": "weekly"}], "one bad row")
        with ThreadPoolExecutor(4) as pool:
            versions = Counter(pool.map(lambda row: post(base, [row])[1]["model_version"], rows * 3))
        split = ", ".join(f"{version} answered {count}" for version, count in sorted(versions.items()))
        print(f"# {sum(versions.values())} requests, staging's canary_share 0.3: {split}", flush=True)
        run("make", "rollout-report", "STAGE=staging", cwd=project)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        print("# the server is stopped", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_ready(server: subprocess.Popen, base: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"make serve exited {server.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/v2/health/ready", timeout=5):  # 127.0.0.1 only
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the server was not ready within {seconds} s")


def test_rows(project: Path) -> list[dict[str, Any]]:
    """The test set's first rows as JSON records, typed as schema.yaml says, without the target."""
    columns = yaml.safe_load((project / "schema.yaml").read_text())["columns"]
    target = yaml.safe_load((project / "params.yaml").read_text())["data"]["target"]
    typed = {"integer": lambda text: int(float(text)), "number": float, "string": str}
    with (project / "data" / "processed" / "test.csv").open() as source:
        lines = list(csv.DictReader(source))[:100]
    return [
        {
            name: None if value == "" else typed[columns[name]["dtype"]](value)
            for name, value in line.items()
            if name != target
        }
        for line in lines
    ]


def post(base: str, rows: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{base}/predict", data=json.dumps(rows).encode(), headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:  # 127.0.0.1 only
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def show_request(base: str, rows: list[dict[str, Any]], what: str) -> None:
    print(f"$ curl -X POST {base}/predict -d '<{what}>'", flush=True)
    status, body = post(base, rows)
    print(f"HTTP {status} {json.dumps(body)}", flush=True)


def main(demo_dir: Path) -> None:
    if demo_dir.exists():
        shutil.rmtree(demo_dir)
    demo_dir.mkdir(parents=True)
    for inherited in ("VIRTUAL_ENV", "MAKEFLAGS", "MAKELEVEL"):
        os.environ.pop(inherited, None)

    step("Generate a project with the default answers (and a directory as its DVC remote)")
    run(
        sys.executable,
        "-m",
        "cookiecutter",
        "--no-input",
        "-o",
        str(demo_dir),
        str(TEMPLATE_DIR),
        f"python_version={python_answer()}",
        "dvc_remote=local",
        f"dvc_remote_url={demo_dir / 'dvc-storage'}",
        cwd=demo_dir,
    )
    project = demo_dir / "customer-churn"
    run("git", "init", "--quiet", "--bare", "-b", "main", "origin.git", cwd=demo_dir)
    git("remote", "add", "origin", "../origin.git", cwd=project)

    step("Set it up: environment, git hooks, DVC")
    run("make", "setup", cwd=project)

    step("Run the pipeline, then again: the second run has nothing to do")
    run("make", "pipeline", cwd=project)
    run("make", "pipeline", cwd=project)

    step("Test the model: gates, behaviour, slices (`make test` adds the project's unit tests)")
    run("make", "test-model", cwd=project)

    step("Commit the first model, push it, register it")
    git("add", "--all", cwd=project)
    git("commit", "--quiet", "--no-verify", "-m", "Train the first model", cwd=project)
    git("push", "--quiet", "-u", "origin", "main", cwd=project)
    run("make", "push", cwd=project)
    run("make", "register", cwd=project)

    step("A pull request: more trees")
    git("checkout", "--quiet", "-b", "more-trees", cwd=project)
    change_param(project / "params.yaml", "n_estimators", "200", "300")
    run("make", "drift-reference", "BASE=main", cwd=project)
    run("make", "pipeline", cwd=project)
    run("make", "test-model", cwd=project)
    run("make", "drift", cwd=project)
    run("make", "report", cwd=project)

    step("The comment CI would post on the pull request")
    print((project / "reports" / "pr_report.md").read_text(), flush=True)

    step("Merge it: main checks that dvc.lock is what the pull request trained, then registers it")
    git("add", "--all", cwd=project)
    git("commit", "--quiet", "--no-verify", "-m", "Train with 300 trees", cwd=project)
    git("checkout", "--quiet", "main", cwd=project)
    git("merge", "--quiet", "--no-ff", "--no-edit", "more-trees", cwd=project)
    git("push", "--quiet", "origin", "main", cwd=project)
    run("make", "push", cwd=project)
    step("What main.yml does on GitHub: a fresh clone of main proves dvc.lock, then registers")
    fresh = demo_dir / "main-checkout"
    run("git", "clone", "--quiet", "origin.git", fresh.name, cwd=demo_dir)
    run("make", "setup", "verify-lock", cwd=fresh)
    run("make", "register", cwd=project)

    step("Serve staging as a canary: the first version holds it, the next one promoted is its candidate")
    serve_stage(project / "params.yaml", "staging", "{strategy: canary, canary_share: 0.3}")
    run("make", "promote", "VERSION=v0.1.0", "STAGE=staging", cwd=project)

    step("Promote the new version to staging, and show the registry")
    run("make", "promote", "VERSION=v0.2.0", "STAGE=staging", cwd=project)
    run("make", "registry", cwd=project)

    step("Serve staging: a few requests (one bad), the canary split, the rollout report")
    serve_canary(project)

    print(f"\nThe project is in {project}. Open its README.md for the daily loop.")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
