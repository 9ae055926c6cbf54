"""Time the generated project's `drift` stage, and its peak memory, on 10k, 100k and 1M rows.

    .venv/bin/python benchmarks/drift_stage.py [--project BAKED_PROJECT] [--rows 10000 100000 ...]

Without --project it bakes the default project into a temporary directory and runs its
pipeline first (a few minutes). Reference and current tables are the bundled sample drawn
with replacement up to each size, the current one with a shifted numeric column; the stage
samples both down to `drift.sample_rows` of params.yaml, which the output reports.
Figures are printed, never asserted: they depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml
from cookiecutter.main import cookiecutter

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
SIZES = (10_000, 100_000, 1_000_000)


def project_env() -> dict[str, str]:
    """A user's shell: this environment's tools on PATH, but not its virtualenv."""
    env = {key: value for key, value in os.environ.items() if key not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    tools = [TEMPLATE_DIR / ".tools" / "bin", Path(sys.executable).parent]
    env["PATH"] = os.pathsep.join([*map(str, tools), env["PATH"]])
    env.setdefault("GIT_AUTHOR_NAME", "Benchmark")
    env.setdefault("GIT_AUTHOR_EMAIL", "benchmark@example.com")
    env.setdefault("GIT_COMMITTER_NAME", "Benchmark")
    env.setdefault("GIT_COMMITTER_EMAIL", "benchmark@example.com")
    return env


def baked_project(workdir: Path) -> Path:
    """Bake the default project and run its pipeline, so that it has a model."""
    project = Path(cookiecutter(str(TEMPLATE_DIR), no_input=True, output_dir=str(workdir)))
    for target in ("setup", "pipeline"):
        subprocess.run(["make", target], cwd=project, env=project_env(), check=True, capture_output=True)
    return project


def write_tables(project: Path, rows: int) -> None:
    """A reference and a shifted current table of `rows` rows where the drift stage reads them."""
    params = yaml.safe_load((project / "params.yaml").read_text())
    paths = params["paths"]
    sample = pd.read_csv(project / params["data"]["source"])
    reference = sample.sample(n=rows, replace=True, random_state=1)
    current = sample.sample(n=rows, replace=True, random_state=2)
    numeric = current.select_dtypes("number").columns[0]
    current[numeric] = current[numeric] * 1.2
    (project / paths["drift_reference"]).mkdir(parents=True, exist_ok=True)
    reference.to_csv(project / paths["drift_reference"] / "data.csv", index=False)
    (project / paths["drift_reference"] / "revision.txt").write_text("benchmark\n")
    current.to_csv(project / paths["ingested"], index=False)


def measure(project: Path, python: Path) -> tuple[float, float, str]:
    """Run the stage once; return wall seconds, peak resident memory in MiB, and its verdict."""
    package = yaml.safe_load((project / ".cookiecutter.json").read_text())["package_name"]
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(python), "-m", package, "drift"],
        cwd=project,
        env=project_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    output = process.stdout.read().strip() if process.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"the drift stage failed: {output}")
    return elapsed, usage.ru_maxrss / 1024, output


def import_seconds(python: Path) -> float:
    """What importing Evidently alone costs, the floor under every comparison."""
    started = time.perf_counter()
    subprocess.run([str(python), "-c", "import evidently.presets"], check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--project", type=Path, help="a baked project that has run its pipeline")
    parser.add_argument("--rows", type=int, nargs="+", default=list(SIZES))
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="drift-benchmark-") as scratch:
        source = arguments.project or baked_project(Path(scratch) / "bake")
        project = Path(scratch) / "copy"
        shutil.copytree(source, project, symlinks=True, ignore=shutil.ignore_patterns(".venv"))
        python = source / ".venv" / "bin" / "python"  # its package is installed editable: same code
        cap = yaml.safe_load((project / "params.yaml").read_text())["drift"]["sample_rows"]
        print(f"drift stage, sample cap {cap} rows per table (params.yaml drift.sample_rows)")
        print(f"importing Evidently alone takes {import_seconds(python):.1f} s")
        print(f"{'rows':>10}  {'seconds':>8}  {'peak MiB':>8}  verdict")
        for rows in arguments.rows:
            write_tables(project, rows)
            seconds, peak, verdict = measure(project, python)
            print(f"{rows:>10}  {seconds:>8.1f}  {peak:>8.0f}  {verdict.removeprefix('drift: ')}")


if __name__ == "__main__":
    main()
