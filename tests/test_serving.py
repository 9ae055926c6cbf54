"""`make serve` runs the real server: it answers, refuses, counts and logs; `make predict` agrees."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import copy_project, free_port, project_env, run

pytestmark = pytest.mark.slow

STARTUP_SECONDS = 240
ROWS = 40


def http(method: str, url: str, body: Any = None) -> tuple[int, str]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # 127.0.0.1 only
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def typed_rows(project: Path, lines: list[dict[str, str]]) -> list[dict[str, Any]]:
    """CSV rows as JSON records, typed by schema.yaml, without the target."""
    columns = yaml.safe_load((project / "schema.yaml").read_text())["columns"]
    convert = {"integer": lambda text: int(float(text)), "number": float, "string": str}
    return [
        {
            name: None if value == "" else convert[columns[name]["dtype"]](value)
            for name, value in line.items()
            if name != "churned"
        }
        for line in lines
    ]


def wait_until_ready(server: subprocess.Popen, base: str, output: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"make serve exited {server.returncode}:\n{output.read_text()}")
        try:
            if http("GET", f"{base}/v2/health/ready")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"the server was not ready within {STARTUP_SECONDS} s:\n{output.read_text()}")


def start_server(project: Path, stage: str, port: int, output: Path) -> subprocess.Popen:
    """`make serve` in its own process group (so that `stop` ends make and the server), printing to output."""
    with output.open("w") as log:
        return subprocess.Popen(
            ["make", "serve", f"STAGE={stage}", f"PORT={port}"],
            cwd=project,
            env=project_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(server: subprocess.Popen) -> None:
    """SIGTERM to make, uv and the server (their own process group); they must exit in time."""
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
        pytest.fail("the server did not stop within 30 s of SIGTERM")


def test_the_real_server_answers_refuses_counts_logs_and_agrees_with_make_predict(ready_project, tmp_path):
    project = copy_project(ready_project("classification"), tmp_path)
    with (project / "data/processed/test.csv").open() as source:
        lines = list(csv.DictReader(source))[:ROWS]
    rows = typed_rows(project, lines)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    output = tmp_path / "serve.log"
    server = start_server(project, "local", port, output)
    try:
        wait_until_ready(server, base, output)
        good_status, good = http("POST", f"{base}/predict", rows)
        bad_status, bad = http("POST", f"{base}/predict", [{**rows[0], "contract": "weekly"}])
        v2_status, v2 = http(
            "POST",
            f"{base}/v2/models/model/infer",
            {
                "parameters": {"content_type": "pd"},
                "inputs": [
                    {"name": name, "shape": [2, 1], "datatype": "BYTES" if isinstance(value, str) else "FP64",
                     "data": [row[name] for row in rows[:2]]}
                    for name, value in rows[0].items()
                    if value is not None
                ],
            },
        )  # fmt: skip
        metrics = http("GET", f"{base}/metrics")[1]
    finally:
        stop(server)

    assert good_status == 200, good
    answered = json.loads(good)
    assert len(answered["predictions"]) == ROWS
    assert answered["model_version"].startswith("local-")
    assert bad_status == 400
    assert (
        "contract: allowed (expected one of month-to-month, one-year, two-year)" in json.loads(bad)["error"]
    )
    assert v2_status == 200, v2
    assert json.loads(v2)["outputs"][0]["data"] == answered["predictions"][:2]
    assert 'status="200"' in metrics and "serving_request_duration_seconds_bucket" in metrics
    assert 'serving_rows_refused_total{check="allowed",column="contract"} 1.0' in metrics

    [day] = (project / "logs/predictions").glob("predictions-*.jsonl")
    entries = [json.loads(line) for line in day.read_text().splitlines()]
    assert [entry["request_id"] for entry in entries] == [answered["request_id"], json.loads(v2)["id"]]
    assert entries[0]["inputs"][0]["customer_id"].startswith("sha256:")  # sensitive in schema.yaml
    monitored = run("make", "monitor", f"CURRENT={day}", cwd=project, check=False)
    assert monitored.returncode in (0, 2), monitored.stderr  # 2: make's status when drift was found
    assert "monitor: " in monitored.stdout

    # make predict on the same rows with one bad row among them: the same predictions for the rest.
    with (project / "data/processed/test.csv").open() as source:
        text = source.read().splitlines()
    header, body = text[0], text[1 : ROWS + 1]
    broken = dict(zip(header.split(","), body[0].split(","), strict=True)) | {"tenure_months": "999"}
    batch = [header, *body[:5], ",".join(broken.values()), *body[5:]]
    (tmp_path / "in.csv").write_text("\n".join(batch) + "\n")
    scored = run(
        "make", "predict", f"INPUT={tmp_path / 'in.csv'}", f"OUTPUT={tmp_path / 'out.csv'}", cwd=project
    )

    assert "predict: row 6 (line 7) skipped: tenure_months: max (expected ≤ 72)" in scored.stderr
    with (tmp_path / "out.csv").open() as result:
        predicted = list(csv.DictReader(result))
    assert [row["predicted_churned"] for row in predicted] == answered["predictions"]
    assert [int(row["row"]) for row in predicted] == [n for n in range(1, ROWS + 2) if n != 6]
    for row, probabilities in zip(predicted, answered["probabilities"], strict=True):
        assert float(row["probability_yes"]) == pytest.approx(probabilities["yes"], abs=1e-12)
