"""Command line: `python -m {{ cookiecutter.package_name }} <command>`, one command per stage or task."""

from __future__ import annotations

import argparse
import importlib
import sys

from .errors import PipelineError

# Each command's module is imported only when that command runs, so a stage never pays
# for another stage's heavy imports.
COMMANDS = {
    "ingest": ("ingest", "Read the configured CSV (path or URL) and keep the rows that have a target."),
    "validate": ("validate", "Check the ingested data against schema.yaml; write the validation report."),
    "split": ("split", "Hold out the test set from the validated data."),
    "train": ("train", "Fit the preprocessing and estimator pipeline and save it with skops."),
    "evaluate": ("evaluate", "Score the model on the test set; write metrics, plots and figures."),
    "schema": ("schema", "Infer a first schema.yaml from the configured data, for review."),
    "model-tests": ("model_tests", "Gate, compare and probe the trained model; write the model-test report."),
}


def parser() -> argparse.ArgumentParser:
    """The argument parser, with one sub-command per entry of COMMANDS."""
    root = argparse.ArgumentParser(prog="python -m {{ cookiecutter.package_name }}", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True, metavar="command")
    for name, (_, summary) in COMMANDS.items():
        commands.add_parser(name, help=summary, description=summary)
    return root


def main(argv: list[str] | None = None) -> int:
    """Run one command; a PipelineError becomes a one-paragraph message and exit status 1."""
    arguments = parser().parse_args(argv)
    module_name, _ = COMMANDS[arguments.command]
    module = importlib.import_module(f"{__package__}.{module_name}")
    try:
        module.main()
    except PipelineError as error:
        print(f"{arguments.command}: error: {error}", file=sys.stderr)
        return 1
    return 0
