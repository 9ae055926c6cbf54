"""Bake projects from the template and run what their users would run, for real."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.main import cookiecutter

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TEMPLATE_DIR / "hooks"))

SLUG = "customer-churn"
PACKAGE = "customer_churn"


def tool_path() -> str:
    """PATH with uv and this environment's tools (dvc, ruff) ahead of the rest."""
    uv = shutil.which("uv") or str(TEMPLATE_DIR / ".tools" / "bin" / "uv")
    if not Path(uv).exists():
        pytest.exit("uv not found: run the tests through `make test`, which installs it", returncode=2)
    return os.pathsep.join([str(Path(uv).parent), str(Path(sys.executable).parent), os.environ["PATH"]])


# What the test run's own environment has and a user's shell does not: our virtualenv, CI's
# flag (the tests that mean CI say so), and, since `make test` runs pytest, MAKELEVEL and
# MAKEFLAGS, which would make every `make` a sub-make that prints "Entering directory" lines.
INHERITED_NOT = frozenset(
    {"VIRTUAL_ENV", "PYTHONPATH", "CI", "GITHUB_ACTIONS", "MAKELEVEL", "MAKEFLAGS", "MFLAGS"}
)


# The suite's two workers share the machine's cores. A library that starts a thread per core
# (OpenMP in scikit-learn, OpenBLAS in numpy) then spins waiting for the threads the other
# worker's processes hold up. Measured: the project's unit suite beside one busy core, 126 s;
# with one thread each, 54 s (its results do not depend on the thread count; it tests that).
ONE_THREAD_EACH = dict.fromkeys(("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"), "1")


def project_env(**extra: str) -> dict[str, str]:
    """The environment a user's shell would give a baked project, with one thread per library."""
    env = {key: value for key, value in os.environ.items() if key not in INHERITED_NOT}
    env.update(
        PATH=tool_path(),
        UV_PYTHON_DOWNLOADS="never",
        GIT_AUTHOR_NAME="Test Author",
        GIT_AUTHOR_EMAIL="author@example.com",
        GIT_COMMITTER_NAME="Test Author",
        GIT_COMMITTER_EMAIL="author@example.com",
        **ONE_THREAD_EACH,
        **extra,
    )
    return env


def run(
    *command: str, cwd: Path, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command as a user would; on an unexpected failure, show everything it printed."""
    result = subprocess.run(
        command, cwd=cwd, env=env or project_env(), capture_output=True, text=True, check=False, timeout=900
    )
    if check and result.returncode != 0:
        pytest.fail(
            f"`{' '.join(command)}` exited {result.returncode} in {cwd}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return result


# The files that take over half a minute, longest first, as `--durations=0` measured them
# (summed per file, in a run of the whole suite on 2 cores).
LONGEST_FIRST = (
    "test_github_flow.py",
    "test_registry.py",
    "test_adopt.py",
    "test_pipeline.py",
    "test_workflows.py",
    "test_render.py",
    "test_bad_inputs.py",
    "test_post_gen.py",
    "test_demo.py",
    "test_validation.py",
    "test_drift.py",
    "test_monitor_workflow.py",
    "test_pr_workflow.py",
    "test_serving_rollout.py",
    "test_retrain.py",
    "test_template_update.py",
    "test_branches.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Start the longest files first, then the other slow ones: `make test` hands whole files to
    its workers in this order (`--no-loadscope-reorder`), the next to whichever is nearly done,
    and a long file started last would leave one worker running alone."""
    gone = [name for name in LONGEST_FIRST if not (Path(__file__).parent / name).is_file()]
    if gone:
        raise pytest.UsageError(f"LONGEST_FIRST in tests/conftest.py names files that are gone: {gone}")

    slow_files = {item.path for item in items if item.get_closest_marker("slow")}

    def rank(item: pytest.Item) -> tuple[int, int]:
        if item.path.name in LONGEST_FIRST:
            return 0, LONGEST_FIRST.index(item.path.name)
        return (1 if item.path in slow_files else 2), 0

    items.sort(key=rank)


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bake(output_dir: Path, **answers: Any) -> Path:
    """Generate a project with default answers except those given."""
    output_dir.mkdir(parents=True, exist_ok=True)
    return Path(
        cookiecutter(str(TEMPLATE_DIR), no_input=True, output_dir=str(output_dir), extra_context=answers)
    )


@pytest.fixture(scope="session", autouse=True)
def developer_shell() -> Iterator[None]:
    """Bake in the environment a developer's shell has: tools on PATH and a git identity."""
    with pytest.MonkeyPatch.context() as patch:
        for key in INHERITED_NOT:
            patch.delenv(key, raising=False)
        for key, value in project_env().items():
            patch.setenv(key, value)
        yield


# Answers as cookiecutter.json gives them when not asked otherwise: a list's first choice, a plain
# string itself. Those it derives from other answers (`{{ ... }}`) are left out.
PLAIN_DEFAULTS = {
    key: value[0] if isinstance(value, list) else value
    for key, value in json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text()).items()
    if not key.startswith("_") and isinstance(value, list | str) and "{" not in str(value)
}


@pytest.fixture(scope="session")
def bake_once(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Bake each combination of answers once per run, whichever test (on whichever worker) asks
    first; the project is then shared, read-only."""
    baked: dict[str, Path] = {}

    def get(**answers: Any) -> Path:
        key = json.dumps({**PLAIN_DEFAULTS, **answers}, sort_keys=True)
        if key not in baked:
            name = "bake-" + hashlib.sha256(key.encode()).hexdigest()[:12]
            baked[key] = build_shared(tmp_path_factory, name, partial(bake, **answers))[0]
        return baked[key]

    return get


# Ready projects: baked, set up and run once per run (built_once), then shared read-only.
# The classification project keeps its DVC storage in a directory, the regression one in
# S3 (served by moto for the remote tests); the pipeline itself never touches the remote.
READY_ANSWERS = {
    "classification": {"task": "classification", "dvc_remote": "local"},
    "regression": {"task": "regression", "dvc_remote": "s3", "dvc_remote_url": "s3://dvc-storage/regression"},
}


def build_shared(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], Path]
) -> tuple[Path, bool]:
    """What `build(directory)` makes, and whether other workers share it.

    It is built once per run, in the run's shared temporary directory, by the first pytest-xdist
    worker that asks; a worker that asks while it is being built builds its own, since waiting
    would leave its core idle."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    shared, built = root / name, root / name / "built"
    with (root / f"{name}.lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released when the file closes
        except BlockingIOError:
            return build(tmp_path_factory.mktemp(name)), False
        if not built.exists():
            shutil.rmtree(shared, ignore_errors=True)  # what a failed build left
            shared.mkdir()
            built.write_text(str(build(shared)))
    return Path(built.read_text()), True


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], Path]) -> Path:
    """The project `build(directory)` makes, for this worker to keep: built once per run
    (build_shared), and each xdist worker takes a private copy. A build trains a model in some
    twenty seconds, a copy takes one."""
    project, shared = build_shared(tmp_path_factory, name, build)
    if shared and os.environ.get("PYTEST_XDIST_WORKER"):
        return copy_project(project, tmp_path_factory.mktemp(name))
    return project


# What the copies of a trained project import that its pipeline does not: drift (Evidently),
# serving, the project's tests. Imported once in the original, their compiled modules are
# linked into every copy (share_bytecode) instead of compiled again in each.
LATER_IMPORTS = "import warnings; warnings.simplefilter('ignore'); import evidently.presets, fastapi, pytest"


def build_trained(directory: Path, **answers: Any) -> Path:
    """Bake a project in `directory`, `make setup pipeline` it, and compile LATER_IMPORTS in it."""
    project = bake(directory / "baked", **answers)
    run("make", "setup", "pipeline", cwd=project)
    run(str(project / ".venv" / "bin" / "python"), "-c", LATER_IMPORTS, cwd=project)
    return project


def build_ready_project(task: str, directory: Path) -> Path:
    """The task's ready project, its local DVC storage (if any) beside it in `directory`."""
    answers = dict(READY_ANSWERS[task])
    if answers["dvc_remote"] == "local":
        answers["dvc_remote_url"] = str(directory / "dvc-storage")
    return build_trained(directory, **answers)


@pytest.fixture(scope="session")
def ready_project(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """A project per task after `make setup` and `make pipeline`."""
    ready: dict[str, Path] = {}

    def get(task: str) -> Path:
        if task not in ready:
            ready[task] = built_once(tmp_path_factory, f"ready-{task}", partial(build_ready_project, task))
        return ready[task]

    return get


def copy_project(project: Path, destination: Path) -> Path:
    """A private copy of a ready project for a test that changes it; its environment is rebuilt
    (a virtualenv cannot move), with the original's compiled bytecode (see share_bytecode)."""
    copy = destination / project.name
    shutil.copytree(project, copy, symlinks=True, ignore=shutil.ignore_patterns(".venv"))
    if (project / ".venv").is_dir():
        build_environment(copy, copy / ".venv", compiled_in=project / ".venv")
    return copy


def build_environment(project: Path, environment: Path, compiled_in: Path) -> None:
    """`project`'s environment, at `environment`, from its lock, with the compiled modules of the
    environment `compiled_in` linked in (share_bytecode)."""
    run(
        "uv",
        "sync",
        "--quiet",
        "--locked",
        cwd=project,
        env=project_env(UV_PROJECT_ENVIRONMENT=str(environment)),
    )
    share_bytecode(compiled_in, environment)


def share_bytecode(source: Path, target: Path) -> None:
    """Link `source` environment's compiled modules into `target`, where they are missing.

    uv links both environments' files to its cache, so a module's source has the same time and
    size in both and Python accepts the other's bytecode (it checks both, and recompiles when they
    differ, as after a copy from another file system): a copy's first command then does not spend
    seconds compiling pandas, scikit-learn and DVC again. Python replaces a .pyc, never edits one.
    """
    for compiled in source.glob("lib/python*/site-packages/**/__pycache__/*.pyc"):
        twin = target / compiled.relative_to(source)
        if twin.parent.parent.is_dir() and not twin.exists():
            twin.parent.mkdir(exist_ok=True)
            os.link(compiled, twin)


@pytest.fixture(scope="session")
def trained_default_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project baked with the default answers (no DVC remote) after `make setup pipeline`,
    its results uncommitted: shared read-only by the workflow tests, which each take a copy."""
    return built_once(tmp_path_factory, "trained-default", build_trained)
