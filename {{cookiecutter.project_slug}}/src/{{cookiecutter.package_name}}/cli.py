"""Command line: `python -m {{ cookiecutter.package_name }} <command>`, one command per stage or task."""

from __future__ import annotations

import argparse
import errno
import importlib
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from types import FrameType

from .errors import PipelineError

# Each command's module is imported only when that command runs, so a stage never pays
# for another stage's heavy imports.
COMMANDS = {
    "ingest": ("data.ingest", "Read the configured CSV (path or URL) and keep the rows that have a target."),
    "validate": (
        "data.validate",
        "Check the ingested data against schema.yaml; write the validation report.",
    ),
    "split": ("data.split", "Hold out the test set from the validated data."),
    "train": ("model.train", "Fit the preprocessing and estimator pipeline and save it with skops."),
    "evaluate": ("model.evaluate", "Score the model on the test set; write metrics, plots and figures."),
    "drift": (
        "checks.drift",
        "Compare the data and the model's predictions with the base branch's (Evidently).",
    ),
    "report": (
        "report.comment",
        "Write the pull request report: verdict, metrics and params against the base.",
    ),
    "drift-reference": (
        "checks.reference",
        "Prepare the base branch's data as the reference of the drift check.",
    ),
    "monitor": ("checks.monitor", "Compare a production batch with the training data; exit 3 on drift."),
    "drift-issue": (
        "checks.drift_issue",
        "Read the open GitHub issue labelled drift, or open or update it with the monitor's report.",
    ),
    "make-batch": (
        "checks.batches",
        "Write a stable and a shifted sample production batch from the test set.",
    ),
    "registry": ("registry.versions", "Register, promote or roll back model versions (GTO git tags)."),
    "deploy": (
        "registry.deploy",
        "Fetch a stage tag's model, verify it, bundle it with its card, publish it.",
    ),
    "github": ("registry.release", "GitHub keeps the model when there is no DVC remote; PR labels."),
    "schema": ("data.schema", "Infer a first schema.yaml from the configured data, for review."),
    "model-tests": (
        "checks.model_tests",
        "Gate, compare and probe the trained model; write the model-test report.",
    ),
    "update-branch": (
        "repo.branch",
        "Merge the base branch, take its dvc.lock on conflict, rerun and commit.",
    ),
    "configure-dvc": (
        "repo.dvc_setup",
        "Set up DVC as .cookiecutter.json asks: init, settings, default remote.",
    ),
    "serve": ("serving.server", "Serve a stage's verified model (or the working copy's) over HTTP."),
    "predict": ("serving.batch", "Score a CSV in chunks, each checked against schema.yaml."),
    "manifests": (
        "serving.kserve",
        "Write a KServe InferenceService per stage, running the serving image of its version.",
    ),
    "rollout-report": (
        "serving.rollout_report",
        "Compare a rollout's candidate with its primary from the prediction log; give a verdict.",
    ),
    "rollout": ("registry.rollout", "Finish a stage's rollout; tell a running server to reload its slots."),
    "adopt": (
        "data.adopt",
        "Point the project at a dataset: params.yaml's data and model tests, schema.yaml.",
    ),
    "add-data": (
        "feedback.add_data",
        "Append a labelled batch that schema.yaml accepts to the training data, once.",
    ),
    "join-labels": ("feedback.labels", "Join the prediction log with later outcomes into a labelled batch."),
    "retrain": ("feedback.retrain", "Add labelled batches on a retrain/ branch; open or update its PR."),
    "template-update": (
        "repo.template",
        "Merge the template's changes (cruft) on a branch; open or update its one PR.",
    ),
}
# Commands that read arguments of their own: their main() takes the rest of the command line.
WITH_ARGUMENTS = {
    "drift-reference",
    "monitor",
    "drift-issue",
    "registry",
    "deploy",
    "update-branch",
    "github",
    "serve",
    "predict",
    "manifests",
    "rollout-report",
    "rollout",
    "adopt",
    "add-data",
    "join-labels",
    "retrain",
    "template-update",
}


# Failures of the machine, not of the code: one paragraph naming the file instead of a traceback.
ENVIRONMENT_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS}
# Commands whose server stops gracefully on SIGTERM by itself.
OWN_SIGNALS = {"serve"}


class Terminated(BaseException):
    """SIGTERM (a CI cancel, `timeout`) as an exception, so cleanup runs as it does for Ctrl-C."""


def raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """While a command runs, SIGTERM unwinds it: the atomic writers remove their temporary files."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set it
        yield
        return
    previous = signal.signal(signal.SIGTERM, raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def describe_os_error(error: OSError) -> str:
    """A disk or permission failure as one paragraph naming the file."""
    where = f": {error.filename}" if error.filename else ""
    return f"{error.strerror or error}{where}"


def parser() -> argparse.ArgumentParser:
    """The argument parser, with one sub-command per entry of COMMANDS."""
    root = argparse.ArgumentParser(prog="python -m {{ cookiecutter.package_name }}", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True, metavar="command")
    for name, (_, summary) in COMMANDS.items():
        if name in WITH_ARGUMENTS:  # their own parser reads the rest, --help included
            commands.add_parser(name, help=summary, add_help=False)
        else:
            commands.add_parser(name, help=summary, description=summary)
    return root


def main(argv: list[str] | None = None) -> int:
    """Run one command and return its exit status; a PipelineError (or a full or read-only disk) is one
    message and 1, SIGTERM cleans up and is 143."""
    root = parser()
    arguments, rest = root.parse_known_args(argv)
    if rest and arguments.command not in WITH_ARGUMENTS:
        root.error(f"unrecognized arguments: {' '.join(rest)}")
    module_name, _ = COMMANDS[arguments.command]
    module = importlib.import_module(f"{__package__}.{module_name}")
    command = arguments.command
    own = command in OWN_SIGNALS
    try:
        with sigterm_raises() if not own else nullcontext():
            status = module.main(rest) if command in WITH_ARGUMENTS else module.main()
    except PipelineError as error:
        print(f"{command}: error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        if error.errno not in ENVIRONMENT_ERRORS:
            raise
        print(f"{command}: error: {describe_os_error(error)}", file=sys.stderr)
        return 1
    except Terminated:
        print(f"{command}: terminated; the outputs it was writing are left as they were", file=sys.stderr)
        return 128 + signal.SIGTERM
    return status or 0
