"""Stage `drift`: compare the branch's data with the base branch's, column by column and through the model.

Evidently takes seconds to import, so it is imported only when two tables really differ.
"""

from __future__ import annotations

import html
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from sklearn.pipeline import Pipeline

from ..config import DataParams, DriftParams, Params, load_params
from ..errors import PipelineError
from ..model.provenance import COMPUTED_FOR
from ..model.store import load_model
from ..outputs import atomic_paths, json_text
from ..tables import file_md5, read_table
from .drift_findings import ColumnDrift, DriftSummary, Kind
from .drift_markdown import drift_markdown, verdict
from .drift_noise import distance_for, finite, noise_floor
from .reference import REFERENCE_DATA, REFERENCE_REVISION
from .report_html import report_html

if TYPE_CHECKING:
    from evidently.core.report import Snapshot

REPORT_FILES = ("drift.html", "drift.json", "drift.md")


def column_kinds(reference: pd.DataFrame, current: pd.DataFrame, columns: list[str]) -> dict[str, Kind]:
    """Numbers are compared as distributions, everything else as category frequencies; a column
    with no value at all in either table has no distribution to compare (an upstream feed broke)."""
    kinds: dict[str, Kind] = {}
    for column in columns:
        for name, table in (("reference", reference), ("current data", current)):
            if table[column].isna().all():
                raise PipelineError(
                    f"column '{column}' has no value in any row of the {name}: there is no distribution "
                    "to compare; fill it where that data comes from"
                )
        numeric = pd.api.types.is_numeric_dtype(reference[column]) and not pd.api.types.is_bool_dtype(
            reference[column]
        )
        if numeric and not pd.api.types.is_numeric_dtype(current[column]):
            raise PipelineError(f"column '{column}' holds numbers in the reference, not in the current data")
        kinds[column] = "numerical" if numeric else "categorical"
    return kinds


def compared_columns(reference: pd.DataFrame, current: pd.DataFrame, data: DataParams) -> list[str]:
    """The columns both tables have, identifiers left out, in the current table's order."""
    return [
        str(column)
        for column in current.columns
        if column in reference.columns and column not in data.drop_columns
    ]


def unmatched_notes(reference: pd.DataFrame, current: pd.DataFrame, data: DataParams) -> list[str]:
    """Say which columns could not be compared because only one table has them."""
    notes = []
    for name, table, other in (("reference", reference, current), ("current data", current, reference)):
        only = [str(c) for c in table.columns if c not in other.columns and c not in data.drop_columns]
        if only and not (only == [data.target] and name == "reference"):
            notes.append(f"only the {name} has: {', '.join(only)}")
    return notes


def capped(frame: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """A seeded random sample of at most `rows` rows, so that large tables stay cheap."""
    return frame.sample(n=rows, random_state=seed) if len(frame) > rows else frame


def prediction_column(data: DataParams) -> str:
    return f"predicted_{data.target}"


def predict(model: Pipeline, frame: pd.DataFrame, name: str) -> pd.Series:
    """The model's predictions on a table; a table without the model's inputs is an error."""
    inputs = [str(column) for column in model.feature_names_in_]
    missing = [column for column in inputs if column not in frame.columns]
    if missing:
        raise PipelineError(f"the {name} lacks columns the model needs: {', '.join(missing)}")
    return pd.Series(model.predict(frame[inputs]), index=frame.index)


def out_of_sample(frame: pd.DataFrame, training: pd.DataFrame) -> pd.DataFrame:
    """The rows of a table the model did not train on. A model's predictions on its own training
    rows lie closer to the target, and so are spread differently, than those on new rows.
    Rows are matched on the columns both tables hold with the same type."""
    keys = [str(c) for c in frame.columns if c in training.columns and frame[c].dtype == training[c].dtype]
    if not keys:
        return frame
    seen = frame[keys].merge(training[keys].drop_duplicates(), how="left", indicator=True)["_merge"]
    return frame[(seen != "both").to_numpy()]


def with_predictions(sample: pd.DataFrame, predictions: pd.Series, column: str) -> pd.DataFrame:
    """The sample with the predictions as one more column, row by row; the shorter side is padded with
    missing values, which the comparison and the noise floor leave out (the predictions may be made
    on other rows than the sample's: drift is compared column by column)."""
    return pd.concat(
        [sample.reset_index(drop=True), predictions.reset_index(drop=True).rename(column)], axis=1
    )


def method_and_threshold(kind: Kind, drift: DriftParams) -> tuple[str, float]:
    setting = drift.numerical if kind == "numerical" else drift.categorical
    return setting.method, setting.threshold


def false_alarm_level(columns: int, drift: DriftParams, prediction: bool) -> float:
    """The chance each column (and the prediction) may be flagged by sampling alone, so that a batch
    from the reference's distribution is flagged at most `drift.false_alarm_rate` of the time.

    A batch is flagged when its prediction drifts, or when `needed` of its columns do. The first
    happens at most `level` of the time; the second, by Markov's inequality on the number of columns
    flagged by chance (`columns * level` on average), at most `columns * level / needed`. The sum
    bounds the rate whatever the correlation between columns, which often drift together.
    """
    needed = next(count for count in range(1, columns + 1) if count / columns >= drift.drift_share)
    return drift.false_alarm_rate / (int(prediction) + columns / needed)


def noise_floors(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    kinds: dict[str, Kind],
    drift: DriftParams,
    level: float,
    seed: int,
) -> dict[str, float]:
    """Each column's noise floor at these two tables' sizes and this false-alarm level, for the
    methods that have one."""
    floors = {}
    for index, (column, kind) in enumerate(kinds.items()):
        method, _ = method_and_threshold(kind, drift)
        measure = distance_for(method, kind, reference[column])
        if measure is None or drift.noise_rounds == 0:
            continue
        rows = len(finite(current[column]))
        floors[column] = noise_floor(
            reference[column], rows, measure, drift.noise_rounds, level, seed + index
        )
    return floors


def thresholds(kinds: dict[str, Kind], floors: dict[str, float], drift: DriftParams) -> dict[str, float]:
    """The threshold each column is held to: params.yaml's, raised to the noise floor where that is higher."""
    return {
        column: max(method_and_threshold(kind, drift)[1], floors.get(column, 0.0))
        for column, kind in kinds.items()
    }


def evidently_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    kinds: dict[str, Kind],
    drift: DriftParams,
    per_column_threshold: dict[str, float],
) -> Snapshot:
    """Run Evidently's data drift preset, with its tests, over the given columns."""
    # Imported here, not at the top, as it takes seconds; its legacy modules warn on import
    # about their own dependencies, which nobody here can act on.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from evidently import DataDefinition, Dataset, Report
        from evidently.presets import DataDriftPreset

    definition = DataDefinition(
        numerical_columns=[column for column, kind in kinds.items() if kind == "numerical"],
        categorical_columns=[column for column, kind in kinds.items() if kind == "categorical"],
    )
    preset = DataDriftPreset(
        columns=list(kinds),
        drift_share=drift.drift_share,
        num_method=drift.numerical.method,
        num_threshold=drift.numerical.threshold,
        cat_method=drift.categorical.method,
        cat_threshold=drift.categorical.threshold,
        per_column_threshold=per_column_threshold,
    )
    return Report([preset], include_tests=True).run(
        Dataset.from_pandas(current[list(kinds)], data_definition=definition),
        Dataset.from_pandas(reference[list(kinds)], data_definition=definition),
    )


def column_verdicts(
    snapshot: Snapshot, kinds: dict[str, Kind], floors: dict[str, float]
) -> dict[str, ColumnDrift]:
    """Read each column's score and Evidently's pass/fail test out of the snapshot."""
    results = snapshot.dict()
    failed = {
        test["metric_config"]["metric_id"]: test["status"] == "FAIL"
        for test in results["tests"]
        if "metric_config" in test
    }
    verdicts = {}
    for metric in results["metrics"]:
        config = metric["config"]
        if not config["type"].endswith(":ValueDrift"):
            continue
        column = config["column"]
        verdicts[column] = ColumnDrift(
            column=column,
            kind=kinds[column],
            method=config["method"],
            score=float(metric["value"]),
            threshold=float(config["threshold"]),
            drifted=failed[metric["id"]],
            noise_floor=floors.get(column),
        )
    return verdicts


def compare(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    model: Pipeline,
    params: Params,
    names: tuple[str, str],
    predicted_rows: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> tuple[DriftSummary, Snapshot]:
    """Compare two tables and the model's predictions; return the summary and Evidently's report.

    The predictions compared are those on `predicted_rows` (the reference's and the current side's),
    by default the two tables; callers pass rows the model never trained on, see `out_of_sample`.
    """
    reference_name, current_name = names
    columns = compared_columns(reference, current, params.data)
    if not columns:
        raise PipelineError(f"the {reference_name} and the {current_name} have no column in common")
    cap, seed = params.drift.sample_rows, params.seed
    reference_sample, current_sample = capped(reference, cap, seed), capped(current, cap, seed)
    kinds = column_kinds(reference_sample, current_sample, columns)
    predicted = prediction_column(params.data)
    notes = unmatched_notes(reference, current, params.data)
    schema_changed = bool(notes)
    compared = {"reference_compared": len(reference_sample), "current_compared": len(current_sample)}
    predicted_on = predicted_rows or (reference, current)
    reference_rows, current_rows = (capped(rows, cap, seed) for rows in predicted_on)
    current_predictions = predict(model, current_rows, current_name)
    current_sample = with_predictions(current_sample, current_predictions, predicted)
    try:
        if reference_rows.empty:
            raise PipelineError(f"the model was trained on every row of the {reference_name}")
        reference_predictions = predict(model, reference_rows, reference_name)
        reference_sample = with_predictions(reference_sample, reference_predictions, predicted)
        kinds[predicted] = "numerical" if params.task == "regression" else "categorical"
    except PipelineError as error:
        notes.append(f"no prediction drift: {error}")
    level = false_alarm_level(len(columns), params.drift, prediction=predicted in kinds)
    floors = noise_floors(reference_sample, current_sample, kinds, params.drift, level, seed)
    used = thresholds(kinds, floors, params.drift)
    snapshot = evidently_report(reference_sample, current_sample, kinds, params.drift, used)
    verdicts = column_verdicts(snapshot, kinds, floors)
    summary = DriftSummary(
        status="compared",
        reference=reference_name,
        current=current_name,
        drift_share=params.drift.drift_share,
        columns=tuple(verdicts[column] for column in columns),
        prediction=verdicts.get(predicted),
        notes=tuple(notes),
        schema_changed=schema_changed,
        rows={
            "reference": len(reference),
            "current": len(current),
            **compared,
            "reference_predicted": len(reference_rows),
            "current_predicted": len(current_rows),
        },
    )
    return summary, snapshot


def placeholder_html(summary: DriftSummary) -> str:
    """A page for the cases with nothing to compare, so the report links never break."""
    message = html.escape(verdict(summary))
    head = "<meta charset='utf-8'><title>Drift report</title>"
    return f"<!doctype html>\n<html><head>{head}</head><body><p>{message}</p></body></html>\n"


def write_reports(
    directory: Path,
    summary: DriftSummary,
    snapshot: Snapshot | None,
    extra: dict[str, str] | None = None,
    computed_for: dict[str, dict[str, str]] | None = None,
) -> None:
    """Write drift.html, drift.json, drift.md and any extra text files together: all of them, or none."""
    extra = extra or {}
    record = summary.as_json() | ({COMPUTED_FOR: computed_for} if computed_for else {})
    paths = [directory / name for name in (*REPORT_FILES, *extra)]
    with atomic_paths(*paths) as (html_out, json_out, markdown_out, *extra_outs):
        if snapshot is None:
            html_out.write_text(placeholder_html(summary), encoding="utf-8")
        else:
            html_out.write_text(report_html(snapshot), encoding="utf-8")
        json_out.write_text(json_text(record), encoding="utf-8")
        markdown_out.write_text(drift_markdown(summary), encoding="utf-8")
        for text, output in zip(extra.values(), extra_outs, strict=True):
            output.write_text(text, encoding="utf-8")


def reference_name(reference_dir: Path) -> str:
    """Name the reference by the revision it was fetched from, when that is known."""
    revision = reference_dir / REFERENCE_REVISION
    return revision.read_text(encoding="utf-8").strip() if revision.is_file() else str(reference_dir)


def pull_request_drift(params: Params) -> tuple[DriftSummary, Snapshot | None]:
    """The branch's data against the base branch's; no Evidently when there is nothing to compare."""
    reference_file = params.paths.drift_reference / REFERENCE_DATA
    current_name = str(params.paths.ingested)
    if not reference_file.is_file():
        return DriftSummary("no_reference", "no reference", current_name, params.drift.drift_share), None
    name = reference_name(params.paths.drift_reference)
    if file_md5(reference_file) == file_md5(params.paths.ingested):
        return DriftSummary("unchanged", name, current_name, params.drift.drift_share), None
    reference, current = read_table(reference_file), read_table(params.paths.ingested)
    if not compared_columns(reference, current, params.data):  # a new dataset: nothing to compare
        notes = tuple(unmatched_notes(reference, current, params.data))
        share = params.drift.drift_share
        return DriftSummary(
            "no_common_columns", name, current_name, share, notes=notes, schema_changed=True
        ), None
    model = load_model(params.paths.model)
    training = read_table(params.paths.train)
    unseen = (out_of_sample(reference, training), out_of_sample(current, training))
    return compare(reference, current, model, params, (name, current_name), unseen)


def drift_provenance(params: Params) -> dict[str, dict[str, str]]:
    """The model, data and reference the pull request's drift check read, hashed as DVC does, so
    that `make report` can tell a drift report of another model or data from the current one."""
    files = {
        "model": params.paths.model,
        "data": params.paths.ingested,
        "reference": params.paths.drift_reference / REFERENCE_DATA,
    }
    return {
        key: {"path": path.as_posix(), "md5": file_md5(path)} for key, path in files.items() if path.is_file()
    }


def main() -> None:
    params = load_params()
    summary, snapshot = pull_request_drift(params)
    write_reports(params.paths.drift, summary, snapshot, computed_for=drift_provenance(params))
    print(f"drift: {verdict(summary)}")
