"""The package's architecture, checked: no import circles, layers that only look down, and
DVC stages that depend on every module their command runs."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

PROJECT = Path(__file__).resolve().parents[1]
PACKAGE = "{{ cookiecutter.package_name }}"
SOURCE = PROJECT / "src" / PACKAGE

# Each room may import from its own rank and below, never above: the model and the data know
# nothing of the registry, serving, checks or the report (validate asks the model's params check
# whether params.yaml fits the data, so data stands on model). Top-level modules not listed here
# (config, errors, outputs, tables) are the ground floor; the command line sits on top.
RANKS = {
    "repo": 1,
    "model": 2,
    "data": 3,
    "registry": 4,
    "serving": 5,
    "checks": 6,
    "report": 7,
    "feedback": 7,
    "cli": 8,
    "__main__": 8,
}
# The code a data scientist changes to make the project theirs: it must not pull in the tools.
YOUR_CODE = ("model.estimators", "model.features", "model.train")
TOOLS = ("evidently", "gto", "dvc")


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(SOURCE.rglob("*.py"))}


def imported(name: str, path: Path) -> Iterator[str]:
    """The package's own modules a module imports, at its top or inside a function."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    known = modules()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            elif (node.module or "").split(".")[0] == PACKAGE:
                target = node.module.partition(".")[2]
            else:
                continue
            for alias in node.names:  # `from . import x` imports a module, `from .x import y` a name
                submodule = f"{target}.{alias.name}" if target else alias.name
                yield submodule if submodule in known else target
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE:
                    yield alias.name.partition(".")[2]


def graph() -> dict[str, set[str]]:
    return {name: set(imported(name, path)) - {name} for name, path in modules().items()}


def rank(name: str) -> int:
    return RANKS.get(name.split(".")[0], 0)


def closure(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(edges.get(name, ()))
    return seen


def only_a_docstring(path: Path) -> bool:
    body = ast.parse(path.read_text(encoding="utf-8")).body
    return all(isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) for node in body)


def test_no_module_imports_itself_in_a_circle() -> None:
    edges = graph()
    circles = sorted(name for name in edges if any(name in closure(other, edges) for other in edges[name]))
    assert circles == []


def test_rooms_import_only_their_own_rank_or_below() -> None:
    upward = sorted(
        f"{name} imports {target}"
        for name, targets in graph().items()
        for target in targets
        if target and rank(target) > rank(name)
    )
    assert upward == []


def test_your_code_imports_without_the_tools() -> None:
    probe = (
        f"import sys; import {', '.join(f'{PACKAGE}.{name}' for name in YOUR_CODE)}; "
        f"print(sorted(tool for tool in {TOOLS!r} if tool in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("module", ["data.ingest", "data.validate", "data.split", "checks.reference"])
def test_what_needs_no_model_imports_no_scikit_learn(module: str) -> None:
    """Each stage or command is a process of its own: importing scikit-learn costs one most of a
    second, and only what fits, scores or loads a model needs it."""
    probe = f"import sys; import {PACKAGE}.{module}; print('sklearn' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def stage_commands() -> dict[str, str]:
    stages = yaml.safe_load((PROJECT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    return {stage: spec["cmd"].split()[-1] for stage, spec in stages.items()}


@pytest.mark.parametrize("stage", sorted(stage_commands()))
def test_each_stage_depends_on_every_module_its_command_runs(stage: str) -> None:
    """Otherwise a change to a module would rerun no stage, and dvc.lock would vouch for a model
    the code no longer produces. Modules that hold only a docstring cannot change a result."""
    from {{ cookiecutter.package_name }}.cli import COMMANDS

    spec = yaml.safe_load((PROJECT / "dvc.yaml").read_text(encoding="utf-8"))["stages"][stage]
    edges, files = graph(), modules()
    command_module = COMMANDS[stage_commands()[stage]][0]
    runs = closure("__main__", edges) | closure(command_module, edges)
    code = {name for name in runs if not only_a_docstring(files[name])}
    needed = {files[name].relative_to(PROJECT).as_posix() for name in code}
    listed = {dep for dep in spec["deps"] if dep.startswith("src/")}
    assert sorted(needed - listed) == [], "modules the stage runs but dvc.yaml does not list"
    assert sorted(listed - needed) == [], "modules dvc.yaml lists but the stage does not run"
