"""Requests per second and latency percentiles of the real server (`make serve`) on 127.0.0.1.

    .venv/bin/python benchmarks/serving.py --project TRAINED_PROJECT [--requests 400] [--rows 1]

The project must have a trained model (`make setup pipeline`). The script starts
`make serve STAGE=local` on a free port, sends `--requests` POST /predict requests of `--rows`
rows (from data/processed/test.csv) at concurrency 1 and 8, and prints requests/s, p50 and
p99. Figures are printed, never asserted: they depend on the machine. Not run by the tests.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def payload(project: Path, rows: int) -> bytes:
    columns = yaml.safe_load((project / "schema.yaml").read_text())["columns"]
    target = yaml.safe_load((project / "params.yaml").read_text())["data"]["target"]
    convert = {
        "integer": lambda v: int(float(v)),
        "number": float,
        "string": str,
        "boolean": lambda v: v == "True",
    }
    with (project / "data/processed/test.csv").open() as source:
        lines = [line for _, line in zip(range(rows), csv.DictReader(source), strict=False)]
    records = [
        {k: None if v == "" else convert[columns[k]["dtype"]](v) for k, v in line.items() if k != target}
        for line in lines
    ]
    return json.dumps(records).encode()


def one(url: str, body: bytes) -> float:
    started = time.perf_counter()
    request = urllib.request.Request(url, data=body, headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:  # 127.0.0.1 only
        answer.read()
    return time.perf_counter() - started


def measure(url: str, body: bytes, requests: int, concurrency: int) -> str:
    for _ in range(20):  # warm up
        one(url, body)
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = sorted(pool.map(lambda _: one(url, body), range(requests)))
    elapsed = time.perf_counter() - started
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    return f"concurrency {concurrency}: {requests / elapsed:,.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--rows", type=int, default=1)
    arguments = parser.parse_args()
    port = free_port()
    server = subprocess.Popen(
        ["make", "serve", "STAGE=local", f"PORT={port}"],
        cwd=arguments.project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{base}/v2/health/ready", timeout=2).close()
                break
            except OSError:
                if server.poll() is not None:
                    sys.exit(f"make serve exited {server.returncode}")
                time.sleep(0.5)
        else:
            sys.exit("the server did not become ready within 180 s")
        body = payload(arguments.project, arguments.rows)
        print(f"POST /predict, {arguments.rows} row(s) per request, {arguments.requests} requests")
        for concurrency in (1, 8):
            print(measure(f"{base}/predict", body, arguments.requests, concurrency))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
