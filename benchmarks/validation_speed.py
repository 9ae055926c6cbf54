"""How long `validate` takes on tens of thousands of rows: printed, never asserted.

Bakes the classification project, grows its sample to each size by resampling rows (new ids,
so the unique check still passes), and times the validate command end to end (process start,
pandera import, checks and reports) and the checks alone.

    PATH=.tools/bin:$PATH .venv/bin/python benchmarks/validation_speed.py   (after `make test` once)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from cookiecutter.main import cookiecutter

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
SIZES = (10_000, 50_000, 100_000)
REPEATS = 3
CHECKS_ONLY = """
import time
from customer_churn.config import load_params
from customer_churn.data.schema import load_schema
from customer_churn.data.validate import read_ingested, validate
params = load_params()
schema, frame = load_schema(params.paths.data_schema), read_ingested(params)
start = time.perf_counter()
failures = validate(frame, schema, params)
print(time.perf_counter() - start, len(failures))
"""


def sh(*command: str, cwd: Path) -> str:
    """Run a command in the baked project and return what it printed."""
    return subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True).stdout


def grown_sample(sample: pd.DataFrame, rows: int) -> pd.DataFrame:
    """The sample resampled to `rows` rows, with fresh unique ids."""
    grown = sample.sample(n=rows, replace=True, random_state=0).reset_index(drop=True)
    grown["customer_id"] = [f"C{i:07d}" for i in range(1, rows + 1)]
    return grown


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(cookiecutter(str(TEMPLATE_DIR), no_input=True, output_dir=scratch))
        sh("uv", "sync", "--quiet", cwd=project)
        sample = pd.read_csv(project / "data" / "raw" / "customers.csv")
        print(f"{'rows':>8}  {'validate command (s)':>20}  {'checks only (s)':>15}")
        for rows in SIZES:
            grown_sample(sample, rows).to_csv(project / "data" / "raw" / "customers.csv", index=False)
            sh("uv", "run", "python", "-m", "customer_churn", "ingest", cwd=project)
            command, checks = [], []
            for _ in range(REPEATS):
                start = time.perf_counter()
                sh("uv", "run", "--quiet", "python", "-m", "customer_churn", "validate", cwd=project)
                command.append(time.perf_counter() - start)
                seconds, failures = sh("uv", "run", "python", "-c", CHECKS_ONLY, cwd=project).split()
                if failures != "0":
                    sys.exit(f"the grown sample should pass validation, but {failures} checks failed")
                checks.append(float(seconds))
            print(f"{rows:>8,}  {min(command):>20.2f}  {min(checks):>15.3f}", flush=True)


if __name__ == "__main__":
    main()
