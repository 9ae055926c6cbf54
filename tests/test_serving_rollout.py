"""Deployment strategies on the real server: one `make serve STAGE=dev` of two registered versions,
its strategy changed by editing params.yaml and `POST /router/reload`, never by a restart.

The two versions are small forests (a few trees, so that 2,000 requests stay quick), registered
and promoted with `make register` and `make promote` as a user would (OVERRIDE: their model
tests are not what these tests are about).
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .conftest import copy_project, free_port, run
from .test_serving import start_server, stop, typed_rows, wait_until_ready

pytestmark = pytest.mark.slow

CONCURRENCY = 8
# A 10% canary share, over this many requests, falls outside 0.06 to 0.14 in fewer than one run
# in 30,000 (binomial).
REQUESTS = 1_000
KEYED = 400  # 200 keys, each asked twice
PRIMARY, CANDIDATE = "v0.1.0", "v0.2.0"
ROWS = 50


@dataclass(frozen=True)
class Served:
    project: Path
    port: int
    rows: list[dict[str, Any]]
    server: subprocess.Popen

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def make(self, *arguments: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run("make", *arguments, f"PORT={self.port}", cwd=self.project, check=check)


def post(url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    data = b"" if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"content-type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:  # 127.0.0.1 only
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def predict(served: Served, number: int, key: str | None = None) -> dict[str, Any]:
    """One row (row `number` of the test set, cycled) answered; a failure fails the test."""
    headers = {"x-request-key": key} if key else {}
    status, body = post(f"{served.base}/predict", [served.rows[number % ROWS]], headers)
    assert status == 200, body
    return body


def under_load(served: Served, count: int, key: Callable[[int], str | None] = lambda _: None) -> list[dict]:
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        return list(pool.map(lambda number: predict(served, number, key(number)), range(count)))


def serve_dev(project: Path, strategy: str, candidate: str | None = None, **shares: float) -> None:
    """Edit how params.yaml's serving section serves dev."""
    settings = {"strategy": strategy, **({"candidate": candidate} if candidate else {}), **shares}
    flow = ", ".join(f"{key}: {value}" for key, value in settings.items())
    params = project / "params.yaml"
    text, edits = re.subn(r"(?m)^    dev: \{.*\}$", f"    dev: {{{flow}}}", params.read_text(), count=1)
    assert edits == 1
    params.write_text(text)


def use_strategy(
    served: Served, strategy: str, candidate: str | None = None, **shares: float
) -> dict[str, Any]:
    """Serve dev another way, then have the running server reload its router."""
    serve_dev(served.project, strategy, candidate, **shares)
    status, state = post(f"{served.base}/router/reload")
    assert status == 200, state
    return state


def logged(served: Served, request_ids: set[str], each: int = 1) -> list[dict[str, Any]]:
    """The log's entries for these requests, once the background writer has written `each` per request."""
    deadline = time.monotonic() + 60
    while True:
        entries = [
            entry
            for path in (served.project / "logs/predictions").glob("*.jsonl")
            for entry in map(json.loads, path.read_text().splitlines())
            if entry["request_id"] in request_ids
        ]
        if len(entries) >= each * len(request_ids) or time.monotonic() > deadline:
            return entries
        time.sleep(0.2)


def train_and_register(project: Path, trees: int) -> None:
    params = project / "params.yaml"
    params.write_text(re.sub(r"n_estimators: \d+", f"n_estimators: {trees}", params.read_text(), count=1))
    run("uv", "run", "dvc", "repro", "train", cwd=project)
    run("git", "add", "--all", cwd=project)
    run("git", "commit", "--quiet", "--no-verify", "-m", f"Train {trees} trees", cwd=project)
    run("make", "register", cwd=project)


@pytest.fixture(scope="module")
def served(ready_project, tmp_path_factory) -> Iterator[Served]:
    """dev holds v0.1.0 and rolls out v0.2.0 as a 10% canary, served on a free port."""
    project = copy_project(ready_project("classification"), tmp_path_factory.mktemp("rollout"))
    port = free_port()
    train_and_register(project, trees=5)
    run(
        "make",
        "promote",
        f"VERSION={PRIMARY}",
        "STAGE=dev",
        "OVERRIDE=rollout test",
        f"PORT={port}",
        cwd=project,
    )
    train_and_register(project, trees=6)
    serve_dev(project, "canary")
    params = project / "params.yaml"
    text = params.read_text()
    # Latency on a shared test machine is noise: the verdict's other checks are what is tested.
    params.write_text(re.sub(r"max_latency_ratio: \S+", "max_latency_ratio: 20", text, count=1))
    promoted = run(
        "make",
        "promote",
        f"VERSION={CANDIDATE}",
        "STAGE=dev",
        "OVERRIDE=rollout test",
        f"PORT={port}",
        cwd=project,
    )
    assert "no server is listening" in promoted.stdout
    assert f"dev is served canary (serving.stages.dev.strategy): {CANDIDATE} is its" in promoted.stdout
    with (project / "data/processed/test.csv").open() as source:
        rows = typed_rows(project, list(csv.DictReader(source))[:ROWS])
    output = tmp_path_factory.mktemp("rollout-log") / "serve.log"
    server = start_server(project, "dev", port, output)
    served = Served(project, port, rows, server)
    try:
        wait_until_ready(server, served.base, output)
        yield served
    finally:
        stop(server)


def test_a_canary_rollout_splits_sticks_reports_finishes_and_rolls_back(served):
    state = use_strategy(served, "canary", canary_share=0.1)
    assert state["slots"] == {"stable": PRIMARY, "candidate": CANDIDATE}

    answers = under_load(served, REQUESTS)
    keyed = under_load(served, KEYED, key=lambda number: f"customer-{number % 200}")

    share = Counter(answer["model_version"] for answer in answers)[CANDIDATE] / REQUESTS
    assert 0.06 <= share <= 0.14
    by_key: dict[str, set[str]] = {}
    for number, answer in enumerate(keyed):
        by_key.setdefault(f"customer-{number % 200}", set()).add(answer["model_version"])
    assert all(len(versions) == 1 for versions in by_key.values())
    assert {PRIMARY, CANDIDATE} == set().union(*by_key.values())

    # The candidate's rollout ends only with a passing rollout report of exactly these versions.
    refused = served.make("rollout-finish", "STAGE=dev", check=False)
    assert refused.returncode != 0
    assert "error: no rollout report at reports/rollout/rollout.json" in refused.stderr
    entries = logged(served, {answer["request_id"] for answer in answers + keyed})
    reported = served.make("rollout-report", "STAGE=dev")
    report = json.loads((served.project / "reports/rollout/rollout.json").read_text())
    assert report["verdict"] == "pass", reported.stdout
    assert (report["primary"]["version"], report["candidate"]["version"]) == (PRIMARY, CANDIDATE)
    answered = Counter(answer["model_version"] for answer in answers + keyed)
    assert report["candidate"]["requests"] == answered[CANDIDATE]  # the log holds each answer
    assert len(entries) == REQUESTS + KEYED
    assert {entry["stage"] for entry in entries} == {"dev"}
    assert "**Verdict: pass**" in (served.project / "reports/rollout/rollout.md").read_text()

    finished = served.make("rollout-finish", "STAGE=dev")
    assert f"rollout: the server on port {served.port} reloaded: stable {CANDIDATE}" in finished.stdout
    assert {predict(served, number)["model_version"] for number in range(30)} == {CANDIDATE}

    rolled_back = served.make("rollback", "STAGE=dev")
    assert f"reloaded: stable {PRIMARY}" in rolled_back.stdout
    assert {predict(served, number)["model_version"] for number in range(30)} == {PRIMARY}
    assert served.server.poll() is None  # the same server all along


def test_ab_splits_by_key_and_logs_each_variant(served):
    state = use_strategy(served, "ab", candidate="local", ab_share=0.5)
    variant_b = state["slots"]["candidate"]
    keys = [f"visitor-{number}" for number in range(200)]

    answers = under_load(served, 400, key=lambda number: keys[number % 200])

    by_key: dict[str, set[str]] = {}
    for number, answer in enumerate(answers):
        by_key.setdefault(keys[number % 200], set()).add(answer["model_version"])
    assert all(len(versions) == 1 for versions in by_key.values())
    share = sum(versions == {variant_b} for versions in by_key.values()) / len(keys)
    assert 0.35 <= share <= 0.65
    roles = {
        entry["request_id"]: entry for entry in logged(served, {answer["request_id"] for answer in answers})
    }
    for answer in answers:
        entry = roles[answer["request_id"]]
        assert entry["model_version"] == answer["model_version"]
        assert entry["role"] == ("candidate" if answer["model_version"] == variant_b else "stable")
        assert entry["outputs"]["predictions"] == answer["predictions"]


def test_shadow_never_changes_a_response(served):
    alone = use_strategy(served, "recreate")["slots"]["stable"]
    expected = [predict(served, number) for number in range(ROWS)]
    shadow = use_strategy(served, "shadow", candidate="local")["slots"]["candidate"]

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        answers = list(pool.map(lambda number: predict(served, number), range(ROWS)))

    for before, after in zip(expected, answers, strict=True):
        assert after["model_version"] == alone
        assert (after["predictions"], after["probabilities"]) == (
            before["predictions"],
            before["probabilities"],
        )
    entries = logged(served, {answer["request_id"] for answer in answers}, each=2)  # the shadow's too
    assert Counter(entry["role"] for entry in entries) == {"stable": ROWS, "shadow": ROWS}
    assert {entry["model_version"] for entry in entries if entry["role"] == "shadow"} == {shadow}


def test_a_blue_green_switch_under_load_loses_no_request(served):
    state = use_strategy(served, "blue-green", candidate="local")
    blue, green = state["slots"]["stable"], state["slots"]["candidate"]
    finished: list[int] = []
    switched: list[tuple[int, str]] = []

    def request(number: int) -> dict[str, Any]:
        answer = predict(served, number)
        finished.append(number)
        return answer

    def switch_midway() -> None:
        while len(finished) < 200:
            time.sleep(0.01)
        status, state = post(f"{served.base}/router/switch")
        switched.append((status, state["live"]))

    switcher = threading.Thread(target=switch_midway)
    switcher.start()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        answers = list(pool.map(request, range(800)))  # each answer is checked to be a 200
    switcher.join()

    versions = [answer["model_version"] for answer in answers]
    assert switched == [(200, "candidate")] and len(answers) == 800
    assert versions[0] == blue and versions[-1] == green
    assert len(logged(served, {answer["request_id"] for answer in answers})) == 800
    status, state = post(f"{served.base}/router/rollback")
    assert (status, state["live"]) == (200, "stable")
    assert predict(served, 0)["model_version"] == blue


def test_a_stage_served_recreate_has_no_rollout_to_report_on_or_finish(served):
    finished = served.make("rollout-finish", "STAGE=staging", check=False)
    reported = served.make("rollout-report", "STAGE=staging", check=False)

    for refused in (finished, reported):
        assert refused.returncode != 0
        assert "error: staging is served recreate (serving.stages.staging.strategy)" in refused.stderr
        assert "Traceback" not in refused.stderr
