"""Command line: `python -m {{ cookiecutter.package_name }} <command>`, one command per stage."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any

from .errors import PipelineError

# Each command's module is imported only when that command runs, so a stage never pays
# for another stage's heavy imports.
COMMANDS = {
    "ingest": ("ingest", "Read the configured CSV (path or URL) and check its target column."),
    "split": ("split", "Hold out the test set."),
    "train": ("train", "Fit the preprocessing and estimator pipeline and save it with skops."),
    "evaluate": ("evaluate", "Score the model on the test set; write metrics, plots and figures."),
    "drift": ("drift", "Compare the data and the model's predictions with the base branch's (Evidently)."),
    "drift-reference": ("reference", "Fetch the base branch's data as the reference of the drift stage."),
    "monitor": ("monitor", "Compare a production batch with the training data; exit 3 on drift."),
    "make-batch": ("batches", "Write a stable and a shifted sample production batch from the test set."),
}

# Commands that take arguments receive them as main(arguments); the others call main().
ARGUMENTS: dict[str, list[tuple[tuple[str, ...], dict[str, Any]]]] = {
    "drift-reference": [
        (("--rev",), {"default": "main", "help": "the git revision to compare with (default: main)"}),
    ],
    "monitor": [
        (("current",), {"help": "the production batch: a CSV path or an http(s) URL"}),
        (("--report-url",), {"help": "where readers of the issue find drift.html (default: its path)"}),
        (
            ("--previous-issue",),
            {"type": Path, "help": "the open drift issue's body, to keep the date drift was first seen"},
        ),
    ],
}


def parser() -> argparse.ArgumentParser:
    """The argument parser, with one sub-command per entry of COMMANDS."""
    root = argparse.ArgumentParser(prog="python -m {{ cookiecutter.package_name }}", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True, metavar="command")
    for name, (_, summary) in COMMANDS.items():
        command = commands.add_parser(name, help=summary, description=summary)
        for flags, options in ARGUMENTS.get(name, []):
            command.add_argument(*flags, **options)
    return root


def main(argv: list[str] | None = None) -> int:
    """Run one command and return its exit status; a PipelineError becomes a one-paragraph message and 1."""
    arguments = parser().parse_args(argv)
    module_name, _ = COMMANDS[arguments.command]
    module = importlib.import_module(f"{__package__}.{module_name}")
    try:
        status = module.main(arguments) if arguments.command in ARGUMENTS else module.main()
    except PipelineError as error:
        print(f"{arguments.command}: error: {error}", file=sys.stderr)
        return 1
    return status or 0
