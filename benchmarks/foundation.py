"""Print how long the foundation takes: generate, set up, run the pipeline, and its overhead.

Usage: `.venv/bin/python benchmarks/foundation.py` (after `make test` or `make demo` has
created the environment). Figures are printed, never asserted: they depend on the machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parents[1]

# The pipeline's work in one process with no DVC: the floor the pipeline's overhead is measured against.
BARE_SCRIPT = """
from {package}.config import load_params
from {package}.dataset import features_and_target
from {package}.evaluate import plot_tables, score, write_outputs
from {package}.ingest import ingest
from {package}.schema import load_schema
from {package}.split import split
from {package}.train import train
from {package}.validate import validate

params = load_params()
frame = ingest(params.data)
validate(frame, load_schema(params.paths.data_schema), params)
train_frame, test_frame = split(frame, params)
model = train(*features_and_target(train_frame, params.data), params)
features, target = features_and_target(test_frame, params.data)
scores = score(model, features, target, params.task)
write_outputs(scores, plot_tables(model, features, target, params), params)
"""


def timed(*command: str, cwd: Path) -> float:
    """Seconds one command takes, failing loudly if it fails."""
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    for inherited in ("VIRTUAL_ENV", "MAKEFLAGS", "MAKELEVEL"):
        os.environ.pop(inherited, None)
    tools = [str(TEMPLATE_DIR / ".tools" / "bin"), str(Path(sys.executable).parent)]
    os.environ["PATH"] = os.pathsep.join([*tools, os.environ["PATH"]])
    with tempfile.TemporaryDirectory() as workdir:
        root = Path(workdir)
        generate = timed(
            sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(root), str(TEMPLATE_DIR), cwd=root
        )
        project = root / "customer-churn"
        figures = {"generate (cookiecutter, hooks included)": generate}
        figures["make setup, first (uv cache as it is)"] = timed("make", "setup", cwd=project)
        shutil.rmtree(project / ".venv")
        figures["make setup, warm uv cache"] = timed("make", "setup", cwd=project)
        figures["dvc repro evaluate, cold (ingest to evaluate)"] = timed(
            "uv", "run", "dvc", "repro", "evaluate", cwd=project
        )
        figures["make pipeline, then (the drift stage alone)"] = timed("make", "pipeline", cwd=project)
        figures["make pipeline, no-op"] = timed("make", "pipeline", cwd=project)
        script = BARE_SCRIPT.format(package="customer_churn")
        figures["bare script, ingest to evaluate, no DVC"] = timed(
            "uv", "run", "python", "-c", script, cwd=project
        )
    width = max(map(len, figures))
    for name, seconds in figures.items():
        print(f"{name:<{width}}  {seconds:6.2f} s")
    overhead = (
        figures["dvc repro evaluate, cold (ingest to evaluate)"]
        / figures["bare script, ingest to evaluate, no DVC"]
    )
    print(f"{'pipeline overhead (dvc repro / bare script)':<{width}}  {overhead:6.2f} x")


if __name__ == "__main__":
    main()
