"""Print how long the foundation takes: generate, set up, run the pipeline, and its overhead.

Usage: `.venv/bin/python benchmarks/foundation.py` (after `make test` or `make demo` has
created the environment). Figures are printed, never asserted: they depend on the machine.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parents[1]

# The pipeline's work in one process with no DVC: each stage's own entry point, in order, so the
# same files are read and written. The floor the pipeline's overhead is measured against.
BARE_SCRIPT = """
import importlib
for stage in ("data.ingest", "data.validate", "data.split", "model.train", "model.evaluate"):
    importlib.import_module("{package}." + stage).main()
"""
ROUNDS = 3
COLD = f"dvc repro evaluate, cold (ingest to evaluate), median of {ROUNDS}"
BARE = f"bare script, ingest to evaluate, no DVC, median of {ROUNDS}"


def timed(*command: str, cwd: Path) -> float:
    """Seconds one command takes, failing loudly if it fails."""
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def forget_pipeline_results(project: Path) -> None:
    """Make the next `dvc repro` cold again: no dvc.lock, no DVC cache (run cache included)."""
    (project / "dvc.lock").unlink()
    shutil.rmtree(project / ".dvc" / "cache")
    shutil.rmtree(project / ".dvc" / "tmp", ignore_errors=True)


def main() -> None:
    # A user's shell: not this environment, not make's, and bytecode written as Python does by
    # default (a container that turns it off would make every process compile its libraries).
    for inherited in ("VIRTUAL_ENV", "MAKEFLAGS", "MAKELEVEL", "PYTHONDONTWRITEBYTECODE"):
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
        script = BARE_SCRIPT.format(package="customer_churn")
        # The first run in a new environment also compiles the bytecode of what it imports: the
        # libraries for both, DVC's own modules for dvc repro. Those runs are shown, but the
        # ratio compares runs that both find their bytecode written.
        figures["bare script, first run (writes the libraries' bytecode)"] = timed(
            "uv", "run", "python", "-c", script, cwd=project
        )
        figures["dvc repro evaluate, first run (writes DVC's bytecode too)"] = timed(
            "uv", "run", "dvc", "repro", "evaluate", cwd=project
        )
        figures["make pipeline, no-op"] = timed("make", "pipeline", cwd=project)
        figures["make report"] = timed("make", "report", cwd=project)
        # Single runs vary by a tenth on a busy machine: the two sides take turns, and the
        # ratio compares their medians.
        cold, bare = [], []
        for _ in range(ROUNDS):
            forget_pipeline_results(project)
            cold.append(timed("uv", "run", "dvc", "repro", "evaluate", cwd=project))
            bare.append(timed("uv", "run", "python", "-c", script, cwd=project))
        figures[COLD] = statistics.median(cold)
        figures[BARE] = statistics.median(bare)
    width = max(map(len, figures))
    for name, seconds in figures.items():
        print(f"{name:<{width}}  {seconds:6.2f} s")
    overhead = figures[COLD] / figures[BARE]
    print(f"{'pipeline overhead (dvc repro / bare script)':<{width}}  {overhead:6.2f} x")
    no_op = figures["make pipeline, no-op"] + figures["make report"]
    print(f"{'no-op pull request path (make pipeline + make report)':<{width}}  {no_op:6.2f} s")


if __name__ == "__main__":
    main()
