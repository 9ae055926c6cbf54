"""Bad data given to any make target that reads data: one `error:` line naming the problem, a
non-zero exit, no traceback, and nothing changed (model, metrics, data, params, schema).

The bad inputs are those real users met (issue: empty file, header-only, missing path, renamed
column, text in a numeric column, one row, an all-empty column, a single-class target, a `;`
separator, no target column), each made from the project's own sample data.

Which target meets which input, and why not the full cross product:
- `pipeline` (data.source) meets every input: it is where each one is caught, by a different
  check of ingest or validate, and where a failure must leave the last good model in place.
- `schema` and `adopt` read a whole dataset through the same ingest as the pipeline, so the
  reading errors (empty, header-only, missing) are the pipeline's; they meet what their own
  inference must refuse: no target column, a `;` file, a target with one value, one row.
- `add-data`, `predict` and `monitor` read a batch with their own code: each meets the input
  its own check must name (a renamed column, text in a numeric column, a `;` file, no rows, an
  empty column). Inputs a target accepts by design are not cases: `predict` skips rows that
  break the schema (serving.bad_rows), and batches need no target column.
- `drift`, `drift-reference`, `test-model`, `report`, `promote` and `deploy` read no data a
  user hands them (they read the pipeline's outputs, git and the registry), so a bad file
  cannot reach them.
All cases share one copy of the trained project: each must change nothing, which the case
checks file by file, so the next case starts from the same state (a copy per case would
rebuild the environment every time and cost minutes).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from .conftest import copy_project, run

pytestmark = pytest.mark.slow

RAW = "data/raw/customers.csv"
TARGET = "churned"
BAD_DIR = "bad-inputs"


def text_in_numeric(frame: pd.DataFrame) -> pd.DataFrame:
    changed = frame.astype({"monthly_charges": object})
    changed.loc[::7, "monthly_charges"] = "twelve"
    return changed


# Each bad input, written as a CSV from the sample data (None: the file is left missing).
BAD_INPUTS: dict[str, Callable[[pd.DataFrame, Path], None] | None] = {
    "empty": lambda frame, path: path.write_text(""),
    "header-only": lambda frame, path: path.write_text(",".join(frame.columns) + "\n"),
    "missing-path": None,
    "renamed-column": lambda frame, path: frame.rename(columns={"tenure_months": "tenure"}).to_csv(
        path, index=False
    ),
    "text-in-numeric": lambda frame, path: text_in_numeric(frame).to_csv(path, index=False),
    "one-row": lambda frame, path: frame.head(1).to_csv(path, index=False),
    "all-empty-column": lambda frame, path: frame.assign(monthly_charges=None).to_csv(path, index=False),
    "single-class": lambda frame, path: frame.assign(**{TARGET: "no"}).to_csv(path, index=False),
    "semicolon": lambda frame, path: frame.to_csv(path, sep=";", index=False),
    "missing-target": lambda frame, path: frame.drop(columns=[TARGET]).to_csv(path, index=False),
}

# (target, bad input, what its error line must say)
CASES = [
    ("pipeline", "empty", "0 rows"),
    ("pipeline", "header-only", "0 rows"),
    ("pipeline", "missing-path", "no such file"),
    ("pipeline", "renamed-column", "tenure_months: required"),
    ("pipeline", "text-in-numeric", "monthly_charges: dtype"),
    ("pipeline", "one-row", "min_rows"),
    ("pipeline", "all-empty-column", "monthly_charges: empty"),
    ("pipeline", "single-class", f"{TARGET}: min_classes"),
    ("pipeline", "semicolon", "expected comma-separated columns"),
    ("pipeline", "missing-target", f"{TARGET}: required"),
    ("schema", "missing-target", f"data.target '{TARGET}' is not a column"),
    ("schema", "semicolon", "is not comma-separated"),
    ("adopt", "single-class", f"data.target '{TARGET}' is 'no' in all"),
    ("adopt", "one-row", "in its only row"),
    ("add-data", "renamed-column", "missing tenure_months; unexpected tenure"),
    ("add-data", "text-in-numeric", "failed schema.yaml's checks, nothing was added"),
    ("predict", "renamed-column", "tenure_months: required"),
    ("predict", "semicolon", "is not comma-separated"),
    ("monitor", "header-only", "has a header but no rows"),
    ("monitor", "renamed-column", "lacks columns the model needs: tenure_months"),
    ("monitor", "all-empty-column", "column 'monthly_charges' has no value in any row of the current data"),
]


def make_arguments(target: str, path: Path, project: Path) -> list[str]:
    """The variables through which each target takes its file (pipeline and schema read params)."""
    return {
        "adopt": [f"DATA={path}", f"TARGET={TARGET}"],
        "add-data": [f"FILE={path}"],
        "predict": [f"INPUT={path}", f"OUTPUT={project / 'predictions.csv'}"],
        "monitor": [f"CURRENT={path}"],
    }.get(target, [])


# What must not move: the last good model, its metrics and data, dvc.lock (a failed run does not
# record the stages that succeeded before the failure, such as an ingest validate then refused),
# and the user's own files.
WATCHED = ("models", "reports", "data", "dvc.lock", "params.yaml", "schema.yaml", "predictions.csv")
# What a failed run writes by design: the report that says what failed.
WRITTEN_ON_FAILURE = {"reports/validation.json", "reports/validation.md", "reports/monitor/rejected_batch.md"}


def state(project: Path) -> dict[str, str]:
    """Every watched file, by md5."""
    files = [project / name for name in WATCHED if (project / name).is_file()]
    files += [path for name in WATCHED if (project / name).is_dir() for path in (project / name).rglob("*")]
    return {
        path.relative_to(project).as_posix(): hashlib.md5(path.read_bytes()).hexdigest()
        for path in sorted(files)
        if path.is_file() and path.relative_to(project).as_posix() not in WRITTEN_ON_FAILURE
    }


@pytest.fixture(scope="module")
def project(tmp_path_factory, trained_default_project) -> Path:
    """One copy of the trained default project, with every bad input under bad-inputs/."""
    copy = copy_project(trained_default_project, tmp_path_factory.mktemp("bad-inputs"))
    sample = pd.read_csv(copy / RAW)
    (copy / BAD_DIR).mkdir()
    for name, write in BAD_INPUTS.items():
        if write is not None:
            write(sample, copy / BAD_DIR / f"{name}.csv")
    run("make", "setup", cwd=copy)  # the environment, once: the cases time only their own target
    return copy


@pytest.mark.parametrize(
    ("target", "bad", "problem"), CASES, ids=[f"{target}-{bad}" for target, bad, _ in CASES]
)
def test_bad_data_is_one_error_line_no_traceback_and_nothing_changes(project, target, bad, problem):
    path = project / BAD_DIR / f"{bad}.csv"
    params = project / "params.yaml"
    original = params.read_text()
    before = state(project)
    if target in {"pipeline", "schema"}:
        params.write_text(re.sub(r"(?m)^(  source: )\S+", rf"\g<1>{BAD_DIR}/{bad}.csv", original, count=1))
    try:
        result = run("make", target, *make_arguments(target, path, project), cwd=project, check=False)
    finally:
        params.write_text(original)
    output = result.stdout + result.stderr

    assert result.returncode != 0, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    error = re.search(r"(?m)^[\w-]+: error: ", output)
    assert error, output[-3000:]
    assert problem in output[error.start() :], output[-3000:]  # the error line, or the lines it introduces
    assert state(project) == before
