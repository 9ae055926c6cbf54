"""`adopt`: train on a new dataset with one command (`make adopt DATA=... TARGET=...`).

It copies a local file under data/raw/ (a URL stays a URL), detects how a CSV is written
(separator, encoding, decimal mark), infers the task when it is not given, and writes what
depends on the data: params.yaml's `task`, `data` and `model_tests` (edited in place, its
other sections and comments kept as they are) and schema.yaml. Running it again on the same
data changes nothing; on changed data it shows what changed.
"""

from __future__ import annotations

import argparse
import difflib
import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ..config import PARAMS_FILE, CsvParams, DataParams, Params, Task, invalid_values_reported, read_yaml
from ..dates import is_date_column
from ..errors import PipelineError
from ..model.estimators import build_estimator
from ..model.params_check import DEFAULT_PRIMARY_METRIC, SLICE_METRICS_BY_TASK, model_tests_problems
from .ingest import ingest_source, is_url, source_bytes
from .reading import detect, is_parquet
from .schema import Schema, check_inferable, infer_schema, plain, schema_text

RAW_DIR = Path("data/raw")
# A numeric target of whole numbers with at most this many distinct values is a class label.
MAX_CLASSES = 10
# A slice column is a category with this many levels at most (and two at least).
MAX_SLICE_LEVELS = 10
# How much worse than all rows the worst slice may score: a share of the overall metric.
SLICE_GAP: dict[Task, float] = {"classification": 0.25, "regression": 0.5}
SLICE_METRIC: dict[Task, str] = {"classification": "accuracy", "regression": "mae"}
EXAMPLE_GATES: dict[Task, str] = {"classification": "{roc_auc: 0.75}", "regression": "{r2: 0.5}"}
EXAMPLE_COLUMNS = 4  # an example row names this many columns at most (the rest are imputed)
TOP_LEVEL_KEY = re.compile(r"^[A-Za-z_][\w-]*:")


def infer_task(values: pd.Series) -> tuple[Task, str]:
    """Classification for labels (text, true/false, a few whole numbers), else regression; and why."""
    present = values.dropna()
    distinct = present.nunique()
    if pd.api.types.is_bool_dtype(values):
        return "classification", "it holds true/false values"
    if not pd.api.types.is_numeric_dtype(values):
        return "classification", f"it holds text ({distinct} distinct values)"
    if (present % 1 == 0).all() and distinct <= MAX_CLASSES:
        shown = ", ".join(str(plain(value)) for value in sorted(present.unique()))
        return "classification", f"it holds {distinct} distinct whole numbers ({shown})"
    return "regression", f"it holds numbers with {distinct} distinct values"


def class_labels(values: pd.Series) -> list[str]:
    """The target's classes as the model names them (strings), sorted."""
    return sorted({str(value) for value in values.dropna().unique()})


def rarest_class(values: pd.Series) -> str:
    """The class with the fewest rows; on a tie, the later one (as model-tests defaults to)."""
    counts = values.dropna().astype(str).value_counts()
    return min(reversed(class_labels(values)), key=lambda label: counts[label])


def slice_column(features: pd.DataFrame) -> str | None:
    """A category with few levels to score the model on each level of: text first, then whole
    numbers; among those, the one whose smallest level has the most rows."""
    candidates = []
    for position, column in enumerate(features.columns):
        values = features[column].dropna()
        levels = values.value_counts()
        if not 2 <= len(levels) <= MAX_SLICE_LEVELS:
            continue
        numeric = pd.api.types.is_numeric_dtype(values)
        if numeric and not (values % 1 == 0).all():
            continue
        candidates.append((numeric, -int(levels.min()), position, str(column)))
    return min(candidates)[3] if candidates else None


def looks_like_identifier(values: pd.Series) -> bool:
    """Every row has its own value, and the values are whole numbers or text."""
    present = values.dropna()
    if len(present) < len(values) or not values.is_unique or len(values) < 2:
        return False
    return not pd.api.types.is_numeric_dtype(values) or bool((present % 1 == 0).all())


def flow(value: Any) -> str:
    """A value as one line of YAML (flow style)."""
    return yaml.safe_dump([value], default_flow_style=True, width=10**6, sort_keys=False).strip()[1:-1]


def typical_row(features: pd.DataFrame) -> dict[str, Any]:
    """The first few columns at their median (numbers) or most common value (the rest)."""
    row = {}
    for column in features.columns[:EXAMPLE_COLUMNS]:
        values = features[column].dropna()
        if values.empty:
            continue
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            median = values.median()
            row[str(column)] = plain(int(median) if (values % 1 == 0).all() else round(float(median), 3))
        else:
            row[str(column)] = plain(values.mode().iloc[0])
    return row


def strongest_numeric(features: pd.DataFrame, signal: pd.Series) -> tuple[str, float] | None:
    """The numeric input most correlated with a signal, and the sign of that correlation."""
    numeric = features.select_dtypes(include="number")
    numeric = numeric.loc[:, numeric.nunique() > 1]
    if numeric.empty or signal.nunique() < 2:
        return None
    correlations = numeric.corrwith(signal.astype(float)).dropna()
    if correlations.empty:
        return None
    column = str(correlations.abs().idxmax())
    return column, float(correlations[column])


def significant(value: float) -> Any:
    """A step or tolerance rounded to two significant figures."""
    return plain(float(f"{value:.2g}")) if value else 1


def model_tests_text(frame: pd.DataFrame, data: DataParams, task: Task, kept: dict[str, Any]) -> str:
    """The `model_tests:` section for this data: valid whatever the data, with commented examples
    that name its own columns."""
    features = frame.drop(columns=[data.target, *data.drop_columns])
    target = frame[data.target]
    classification = task == "classification"
    lines = [
        "model_tests:",
        f"  regression_tolerance: {flow(kept.get('regression_tolerance', 0.02))}"
        "   # how much a compared metric may lose against the base branch",
        "  # The model must beat a dummy estimator (class shares, or the mean), fitted in the same run:",
        f"  primary_metric: {DEFAULT_PRIMARY_METRIC[task]}",
        "  beat_baseline_by: 0.02   # in the metric's units (for an error: a share of the dummy's)",
        "  gates: {}"  # no absolute bound: the baseline gate holds on any data
        f"   # absolute bounds, optional, e.g. {EXAMPLE_GATES[task]} (for errors: the highest allowed)",
    ]
    classes = class_labels(target) if classification else []
    scored = None
    if classification and len(classes) == 2:
        scored = rarest_class(target)
        lines.append(f"  score_class: {flow(scored)}   # the class whose probability is scored: the rarest")
    elif classification:
        lines.append(f"  # {len(classes)} classes: metrics are macro averages (roc_auc one-vs-rest). Name a")
        lines.append(
            f"  # class to probe its probability (directional ones need it): score_class: {flow(classes[-1])}"
        )
    signal = (target.astype(str) == (scored or classes[-1])) if classification else target
    categorical = [str(c) for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    shuffled = next(iter([*categorical, *map(str, features.columns)]), None)
    tolerance = 0.05 if classification else significant(0.05 * float(target.std()))
    lines.append("  invariance: []   # columns that must not matter, shuffled (or shifted by `shift`), e.g.:")
    if shuffled is not None:
        lines.append(f"  #   - {flow({'column': shuffled, 'tolerance': tolerance})}")
    lines.append("  directional: []   # raising a column must move the score this way, or not at all, e.g.:")
    if strongest := strongest_numeric(features, signal):
        column, correlation = strongest
        case = {
            "column": column,
            "increase": significant(float(features[column].std())),
            "expect": "higher" if correlation > 0 else "lower",
        }
        lines.append(f"  #   - {flow(case)}")
    lines.append("  minimum_functionality: []   # rows whose answer is not in doubt (others imputed), e.g.:")
    row = typical_row(features)
    if row:
        lines.append("  #   - name: a typical row")
        lines.append(f"  #     row: {flow(row)}")
        if classification:
            lines.append(f"  #     expect: {flow(str(target.astype(str).mode().iloc[0]))}")
        else:
            low, high = (significant(float(target.quantile(q))) for q in (0.05, 0.95))
            lines.append(f"  #     between: {flow([low, high])}")
    column = slice_column(features)
    if column is None:
        lines.append("  # slices: none, no input is a category of 2 to 10 levels to score each level of")
    else:
        gap = SLICE_GAP[task]
        lines += [
            f"  slices:   # the metric per value of {column}: worst ≤ {100 * gap:.0f}% off all rows'",
            f"    column: {flow(column)}",
            f"    metric: {SLICE_METRIC[task]}   # one of: {', '.join(SLICE_METRICS_BY_TASK[task])}",
            f"    max_gap: {gap}",
            "    min_rows: 20   # smaller slices are reported, not gated",
        ]
    return "\n".join(lines) + "\n"


def data_text(data: DataParams) -> str:
    """The `data:` section."""
    csv = (
        ""
        if is_parquet(data.source)
        else (f"  csv: {flow(data.csv.model_dump())}   # how the file is written (adopt detected it)\n")
    )
    return (
        "data:\n"
        "  # A CSV or Parquet path relative to this directory, or an http(s) URL. Keep local files\n"
        "  # under data/raw/ so that DVC notices when they change.\n"
        f"  source: {flow(data.source)}\n"
        f"  target: {flow(data.target)}\n"
        f"  drop_columns: {flow(list(data.drop_columns))}   # identifiers and leaks: never model inputs\n"
        f"{csv}"
    )


def csv_options(source: str) -> CsvParams:
    """How the source CSV is written, as detected; said, since params.yaml keeps it."""
    if is_parquet(source):
        return CsvParams()
    options = detect(source_bytes(source) if is_url(source) else Path(source))
    decimal = f", decimal {options.decimal!r}" if options.decimal != "." else ""
    print(f"adopt: CSV with separator {options.separator!r}, encoding {options.encoding}{decimal} (detected)")
    return options


def replace_section(text: str, key: str, block: str) -> str:
    """params.yaml with one top-level section replaced; the comments above the next section,
    and everything else, stay as they are. A missing section is added at the end."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.startswith(f"{key}:")), None)
    if start is None:
        return text + ("" if text.endswith("\n") else "\n") + block
    end = next((i for i in range(start + 1, len(lines)) if TOP_LEVEL_KEY.match(lines[i])), len(lines))
    while end - 1 > start and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
        end -= 1
    return "".join([*lines[:start], block, *lines[end:]])


def replace_task(text: str, task: Task) -> str:
    """params.yaml with `task:` set, its comment kept."""
    return re.sub(r"^task:[ \t]*[^\s#]*", f"task: {task}", text, count=1, flags=re.MULTILINE)


def unified_diff(before: str, after: str, name: str) -> str:
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    return "".join(difflib.unified_diff(old, new, f"{name} (before)", f"{name} (after)"))


def raw_source(data: str) -> str:
    """The source params.yaml will name: a URL as it is, a file as its copy under data/raw/."""
    if is_url(data):
        return data
    if not Path(data).is_file():
        raise PipelineError(f"DATA: no such file: {data}")
    return (RAW_DIR / Path(data).name).as_posix()


def copy_in(data: str, source: str) -> None:
    """Copy a local DATA to `source`, once every check passed: a refused file leaves nothing behind."""
    path, destination = Path(data), Path(source)
    if is_url(data) or path.resolve() == destination.resolve():
        return
    if not destination.is_file() or destination.read_bytes() != path.read_bytes():
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
        print(f"adopt: copied {data} to {destination}")


def check_columns(frame: pd.DataFrame, target: str, drop: list[str]) -> None:
    """The target and the dropped columns exist, all problems in one message."""
    columns = [str(name) for name in frame.columns]
    problems = [f"TARGET '{target}' is not a column" for _ in [0] if target not in columns]
    problems += [f"DROP '{name}' is not a column" for name in drop if name not in columns]
    if target in drop:
        problems.append(f"TARGET '{target}' is also in DROP")
    if problems:
        raise PipelineError("; ".join(problems) + f" (the columns: {', '.join(columns)})")


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="adopt", description="Point the project at a dataset: params.yaml, schema.yaml, model tests."
    )
    parser.add_argument("data", help="a CSV or Parquet path, or an http(s) URL")
    parser.add_argument("--target", required=True, help="the column the model predicts")
    parser.add_argument("--task", choices=["classification", "regression"], help="inferred when not given")
    parser.add_argument("--drop", default="", help="comma-separated columns that are no model inputs")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    drop = [name.strip() for name in args.drop.split(",") if name.strip()]
    params_before = PARAMS_FILE.read_text(encoding="utf-8") if PARAMS_FILE.is_file() else ""
    current = read_yaml(PARAMS_FILE, "run from the project root") or {}
    source = raw_source(args.data)
    data = DataParams(source=source, target=args.target, drop_columns=tuple(drop), csv=csv_options(args.data))
    given = data.model_copy(update={"source": args.data})  # copied in only once it passes
    ingested = ingest_source(given)
    frame = ingested.frame
    check_columns(frame, args.target, drop)
    check_inferable(frame, given)
    if args.task:
        task: Task = args.task
        print(f"adopt: task: {task} (as TASK says)")
    else:
        task, why = infer_task(frame[args.target])
        print(f"adopt: task: {task}, inferred: {why}; set TASK=... to choose")

    kept = current.get("model_tests") or {}
    text = replace_task(params_before, task)
    text = replace_section(text, "data", data_text(data))
    text = replace_section(text, "model_tests", model_tests_text(frame, data, task, kept))
    with invalid_values_reported(PARAMS_FILE):
        params = Params.model_validate(yaml.safe_load(text))
    schema = infer_schema(frame, data, task)
    with invalid_values_reported(params.paths.data_schema):
        Schema.model_validate(schema)
    new_schema = schema_text(schema)
    schema_path = params.paths.data_schema
    schema_before = schema_path.read_text(encoding="utf-8") if schema_path.is_file() else ""
    same_source = (current.get("data") or {}).get("source") == source
    copy_in(args.data, source)

    for path, before, after in ((PARAMS_FILE, params_before, text), (schema_path, schema_before, new_schema)):
        if before == after:
            print(f"adopt: {path} unchanged")
            continue
        if same_source and before:
            print(f"adopt: {path} changed:\n{unified_diff(before, after, str(path))}", end="")
        path.write_text(after, encoding="utf-8")
        print(f"adopt: wrote {path}")
    describe(frame, params, ingested.without_target)


def describe(frame: pd.DataFrame, params: Params, without_target: int) -> None:
    """What adopt chose, what to review, and any problem left (none, normally)."""
    data, tests = params.data, params.model_tests
    features = frame.drop(columns=[data.target, *data.drop_columns])
    dropped = f"; {without_target} rows without a target are left out" if without_target else ""
    inputs = f"{features.shape[1]} model inputs"
    print(f"adopt: {data.source}: {len(frame)} rows, {inputs}, target {data.target}{dropped}")
    classes = class_labels(frame[data.target]) if params.task == "classification" else None
    gate = f"beat a dummy estimator's {tests.primary_metric} by {tests.beat_baseline_by:g}"
    if classes is not None and len(classes) > 2:
        gate += f" ({len(classes)} classes: macro averages)"
    elif tests.score_class is not None:
        gate += f"; score class {tests.score_class!r}, the rarest"
    if tests.slices is not None:
        gate += f"; slices on {tests.slices.column} ({tests.slices.metric})"
    print(f"adopt: model tests: {gate}")
    dates = [str(c) for c in features.columns if is_date_column(features[c])]
    if dates:
        print(f"adopt: dates: {', '.join(dates)}: the model uses each one's year, month and day of the week")
    identifiers = [str(c) for c in features.columns if c not in dates and looks_like_identifier(features[c])]
    empty = [str(c) for c in frame.columns if frame[c].isna().all()]
    print("Review, then commit params.yaml, schema.yaml and the data:")
    print(f"  {params.paths.data_schema}: the bounds, categories and missing shares it took from the data")
    print("  params.yaml model_tests: absolute gates, and invariance, directional and minimum_functionality")
    print("    cases (the commented examples name your columns)")
    if identifiers:
        print(f"  {', '.join(identifiers)}: one value per row, like an identifier: add to DROP if it is one")
    if empty:
        print(f"  {', '.join(empty)}: no values at all, and validate refuses an empty column: remove it")
    problems = model_tests_problems(params, [str(c) for c in features.columns], classes)
    try:  # the task adopt inferred may not offer the estimator params.yaml names
        build_estimator(params.task, params.model, params.seed)
    except PipelineError as error:
        problems.insert(0, str(error))
    if problems:
        listed = "\n".join(f"  {problem}" for problem in problems)
        raise PipelineError(f"params.yaml still has problems to fix before `make pipeline`:\n{listed}")
    print("Then: make pipeline && make test")
