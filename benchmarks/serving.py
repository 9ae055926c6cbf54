"""Serving figures of a trained project, each beside the model's own time (the floor).

    .venv/bin/python benchmarks/serving.py --project TRAINED_PROJECT [--requests 400] [--batch-rows 1000000]

The project must have a trained model (`make setup pipeline`). In one run the script measures:
1. the floor: the model's bare `predict_proba` on 1 row and 1,000 rows (median of repeats) and
   its bulk rate in rows/s, in the project's own environment; measured again at the end, since
   on a shared machine it moves with the load;
2. batch scoring: `make predict` on CSVs of a tenth of `--batch-rows` and of `--batch-rows`
   rows (test.csv repeated), rows/s and the peak memory (max RSS) of each, so a flat memory
   shows as the same peak at both sizes; then its scoring and the bare `predict_proba` on the
   smaller file's rows in turns, in one process, a ratio the machine's load moves less;
3. the server: `make serve STAGE=local` on a free port, `--requests` POST /predict requests of
   1 row and of 1,000 rows at concurrency 1 and 8: requests/s, p50 and p99.
Figures are printed, never asserted: they depend on the machine. Not run by the tests.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
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


# Run in the project's environment: load the working copy's model as the server does and time
# predict_proba alone. Prints one JSON line.
FLOOR = """
import json, statistics, sys, time
import pandas as pd
from {package}.config import load_params
from {package}.serving.loaded import load_local
params = load_params()
model = load_local(params)
frame = pd.read_csv(params.paths.test).drop(columns=[params.data.target])
features = frame.reindex(columns=list(model.features))
bulk = pd.concat([features] * (100_000 // len(features) + 1)).head(100_000)
def seconds(rows, repeats):
    sample = pd.concat([features] * (rows // len(features) + 1)).head(rows)
    model.pipeline.predict_proba(sample)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        model.pipeline.predict_proba(sample)
        times.append(time.perf_counter() - started)
    return statistics.median(times)
started = time.perf_counter()
model.pipeline.predict_proba(bulk)
bulk_rate = len(bulk) / (time.perf_counter() - started)
print(json.dumps({{"one": seconds(1, 50), "thousand": seconds(1000, 20), "bulk": bulk_rate}}))
"""


# Run in the project's environment: `make predict`'s scoring (read, check, score, write) on a
# CSV, in turns with the bare predict_proba on the same rows, so that both meet the same load.
# Prints one JSON line: the best of three of each, in seconds.
IN_TURNS = """
import io, json, sys, time
from pathlib import Path
import pandas as pd
from {package}.config import load_params
from {package}.data.schema import load_schema
from {package}.serving.batch import score_file
from {package}.serving.checks import RequestChecks
from {package}.serving.loaded import load_local
params = load_params()
model = load_local(params)
schema = load_schema(params.paths.data_schema)
checks = RequestChecks(schema, model.features, params.data.drop_columns, params.data.target)
source, scored = Path(sys.argv[1]), Path(sys.argv[2])
features = pd.read_csv(source).reindex(columns=list(model.features))
bare, batch = [], []
for _ in range(3):
    started = time.perf_counter()
    model.pipeline.predict_proba(features)
    bare.append(time.perf_counter() - started)
    started = time.perf_counter()
    score_file(source, scored, model, checks, params, io.StringIO())
    batch.append(time.perf_counter() - started)
print(json.dumps({{"bare": min(bare), "batch": min(batch)}}))
"""


def in_turns(project: Path, rows: int, work: Path) -> dict[str, float]:
    """Batch scoring and the bare model on the same rows, in turns, in one process."""
    source = work / f"turns-{rows}.csv"
    big_csv(project, rows, source)
    python = project / ".venv" / "bin" / "python"
    script = IN_TURNS.format(package=package(project))
    result = subprocess.run(
        [str(python), "-c", script, str(source), str(work / "turns-out.csv")],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.splitlines()[-1])


def package(project: Path) -> str:
    return json.loads((project / ".cookiecutter.json").read_text())["package_name"]


def floor(project: Path) -> dict[str, float]:
    """The model's own predict_proba times, measured in the project's environment."""
    python = project / ".venv" / "bin" / "python"
    script = FLOOR.format(package=package(project))
    result = subprocess.run(
        [str(python), "-c", script], cwd=project, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.splitlines()[-1])


def show_floor(title: str, model: dict[str, float]) -> None:
    print(
        f"{title}, predict_proba: 1 row {model['one'] * 1000:.1f} ms, 1,000 rows "
        f"{model['thousand'] * 1000:.1f} ms, bulk {model['bulk']:,.0f} rows/s"
    )


def big_csv(project: Path, rows: int, destination: Path) -> None:
    """test.csv's rows repeated up to `rows`."""
    with (project / "data/processed/test.csv").open() as source:
        header, *body = source.read().splitlines()
    with destination.open("w") as out:
        out.write(header + "\n")
        for index in range(rows):
            out.write(body[index % len(body)] + "\n")


def batch(project: Path, rows: int, work: Path) -> tuple[float, float]:
    """`make predict` on a CSV of `rows` rows, in a child whose peak memory only it sets:
    seconds taken and peak RSS in MiB."""
    source, scored = work / f"in-{rows}.csv", work / f"out-{rows}.csv"
    big_csv(project, rows, source)
    probe = (
        "import resource, subprocess, sys, time; started = time.perf_counter(); "
        "subprocess.run(sys.argv[1:], check=True, capture_output=True); "
        "print(time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    command = ["make", "predict", f"INPUT={source}", f"OUTPUT={scored}"]
    result = subprocess.run(
        [sys.executable, "-c", probe, *command], cwd=project, capture_output=True, text=True, check=True
    )
    elapsed, peak_kib = result.stdout.split()
    source.unlink()
    scored.unlink()
    return float(elapsed), int(peak_kib) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--batch-rows", type=int, default=1_000_000)
    arguments = parser.parse_args()
    project = arguments.project
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    model = floor(project)
    show_floor("floor", model)
    work = Path(tempfile.mkdtemp(prefix="serving-benchmark-"))
    try:
        sizes = (arguments.batch_rows // 10, arguments.batch_rows)
        runs = [batch(project, rows, work) for rows in sizes]
        for rows, (seconds, peak) in zip(sizes, runs, strict=True):
            print(
                f"make predict, {rows:,} rows: {seconds:.1f} s, {rows / seconds:,.0f} rows/s, "
                f"peak RSS {peak:,.0f} MiB"
            )
        # The difference between the two runs leaves out what both pay once (uv, imports, loading).
        marginal = (sizes[1] - sizes[0]) / (runs[1][0] - runs[0][0])
        print(
            f"make predict, scoring alone: {marginal:,.0f} rows/s "
            f"({marginal / model['bulk']:.0%} of the floor's bulk rate)"
        )
        rows = sizes[0]
        turns = in_turns(project, rows, work)
        batch_rate, bare_rate = rows / turns["batch"], rows / turns["bare"]
        print(
            f"in turns on {rows:,} rows (best of 3): make predict's scoring {batch_rate:,.0f} rows/s, "
            f"bare predict_proba {bare_rate:,.0f} rows/s ({batch_rate / bare_rate:.0%})"
        )
    finally:
        shutil.rmtree(work)
    port = free_port()
    server = subprocess.Popen(
        ["make", "serve", "STAGE=local", f"PORT={port}"],
        cwd=project,
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
        cores = os.cpu_count() or 1
        for rows, model_seconds in ((1, model["one"]), (1000, model["thousand"])):
            body = payload(project, rows)
            print(f"POST /predict, {rows} row(s) per request, {arguments.requests} requests")
            print(
                f"  floor: {model_seconds * 1000:.1f} ms per request, "
                f"at most {cores / model_seconds:,.0f} req/s on {cores} cores"
            )
            for concurrency in (1, 8):
                print("  " + measure(f"{base}/predict", body, arguments.requests, concurrency))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    # On a shared machine the floor moves with the load: measured again, the figures' bracket.
    print(f"load average {os.getloadavg()[0]:.1f}")
    show_floor("floor again, after the runs", floor(project))


if __name__ == "__main__":
    main()
