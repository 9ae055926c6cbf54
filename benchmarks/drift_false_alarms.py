"""How often the generated project's drift check cries wolf on small tables, and how often it catches a shift.

    .venv/bin/python benchmarks/drift_false_alarms.py [--project BAKED_PROJECT] [--seeds 25]
        [--prediction-reference held-out|training]

Tables of 150-500 rows are drawn (one seed each) from scikit-learn's bundled datasets: six of
their numeric columns, often correlated, and a categorical one cut from the first. Each goes through
the project's own code as `make pipeline`, `make sample-batches` and `make monitor` would take
it: the split, the model of params.yaml trained on the training part, make-batch's stable batch
and shifted batch, and `compare` of each batch with the training part, so that the figures are
those of the drift settings in the project's params.yaml. The held-out split is halved: one half
plays the test split, whose predictions `make monitor` takes as the reference's, the other half
the production rows the batches are cut from. With --prediction-reference training the
reference's predictions are those on the training rows instead, as the monitor made them before.
To measure other settings, edit that params.yaml. Without --project it bakes the default project
(a few minutes).

Printed: the share of stable batches flagged (any drift alarm; by the column share; by the
prediction), the share of their columns flagged, the share of shifted batches flagged and of
those where both moved columns were flagged, and the time per comparison. Figures are printed,
never asserted.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# (loader, rows, task): the bundled datasets at sizes from 150 to 500 rows
TABLES = [
    ("load_iris", 150, "classification"),
    ("load_wine", 150, "classification"),
    ("load_wine", 178, "classification"),
    ("load_breast_cancer", 200, "classification"),
    ("load_breast_cancer", 350, "classification"),
    ("load_breast_cancer", 500, "classification"),
    ("load_diabetes", 150, "regression"),
    ("load_diabetes", 300, "regression"),
    ("load_diabetes", 442, "regression"),
]


def small_table(loader: str, rows: int, seed: int):  # a DataFrame of the project's pandas
    """Six numeric columns of `rows` rows of a bundled dataset, a three-band category cut from the
    first, and the target: at 2 shifted columns of 7, make-batch's shift is a dataset drift."""
    import pandas as pd
    from sklearn import datasets

    frame = getattr(datasets, loader)(as_frame=True).frame.sample(n=rows, random_state=seed)
    inputs = [str(column) for column in frame.columns if column != "target"][:6]
    band = pd.qcut(frame[inputs[0]], 3, labels=["low", "mid", "high"]).astype(str)
    return frame[inputs].assign(band=band, target=frame["target"]).reset_index(drop=True)


def measure_inside(package: str, seeds: int, prediction_reference: str) -> dict:
    """Run in the project's environment: every table and seed through split, train, make-batch, compare."""
    import yaml

    config = importlib.import_module(f"{package}.config")
    split = importlib.import_module(f"{package}.data.split").split
    train = importlib.import_module(f"{package}.model.train").train
    batches_module = importlib.import_module(f"{package}.checks.batches")
    make_batches, columns_to_shift = batches_module.make_batches, batches_module.columns_to_shift
    compare = importlib.import_module(f"{package}.checks.drift").compare
    features_and_target = importlib.import_module(f"{package}.tables").features_and_target

    raw = yaml.safe_load(Path("params.yaml").read_text(encoding="utf-8"))
    runs = []
    for loader, rows, task in TABLES:
        for seed in range(seeds):
            raw |= {"task": task, "seed": seed}
            raw["data"] |= {"target": "target", "drop_columns": []}
            params = config.Params.model_validate(raw)
            training, held_out = split(small_table(loader, rows, seed), params)
            model = train(*features_and_target(training, params.data), params)
            test_part = held_out.sample(frac=0.5, random_state=seed)
            production = held_out.drop(index=test_part.index)
            batches = make_batches(production, params)
            moved = columns_to_shift(production, params.data)
            reference_rows = training if prediction_reference == "training" else test_part
            for case in ("stable", "shifted"):
                started = time.perf_counter()
                batch = batches[f"{case}.csv"]
                names = ("training", case)
                summary, _ = compare(training, batch, model, params, names, (reference_rows, batch))
                seconds = time.perf_counter() - started
                runs.append(
                    {
                        "table": f"{loader.removeprefix('load_')}-{rows}",
                        "case": case,
                        "seconds": seconds,
                        "columns": len(summary.columns),
                        "drifted_columns": summary.drifted_columns,
                        "dataset_drift": summary.dataset_drift,
                        "prediction_drift": bool(summary.prediction and summary.prediction.drifted),
                        "drift_detected": summary.drift_detected,
                        "moved_caught": set(moved) <= set(summary.drifted_columns),
                    }
                )
    return {"drift": raw["drift"], "prediction_reference": prediction_reference, "runs": runs}


def share(runs: list[dict], key: str) -> str:
    hits = sum(bool(run[key]) for run in runs)
    return f"{hits:>3}/{len(runs):<3} {hits / len(runs):6.1%}" if runs else "-"


def column_share(runs: list[dict]) -> str:
    flagged = sum(len(run["drifted_columns"]) for run in runs)
    total = sum(run["columns"] for run in runs)
    return f"{flagged:>3}/{total:<4} {flagged / total:6.2%}"


def print_figures(result: dict) -> None:
    runs = result["runs"]
    drift = {key: value for key, value in result["drift"].items() if not isinstance(value, dict)}
    print("drift settings:", json.dumps(drift))
    print("the reference's predictions: on the", result["prediction_reference"], "rows")
    header = f"{'table':<20} {'stable: alarm':>15} {'by columns':>15} {'by prediction':>15} "
    print(header + f"{'columns flagged':>17} {'shifted: alarm':>15} {'both moved seen':>15}")
    tables = list(dict.fromkeys(run["table"] for run in runs))
    for table in [*tables, "all"]:
        mine = [run for run in runs if table in {"all", run["table"]}]
        stable = [run for run in mine if run["case"] == "stable"]
        shifted = [run for run in mine if run["case"] == "shifted"]
        print(
            f"{table:<20} {share(stable, 'drift_detected'):>15} {share(stable, 'dataset_drift'):>15} "
            f"{share(stable, 'prediction_drift'):>15} {column_share(stable):>17} "
            f"{share(shifted, 'drift_detected'):>15} {share(shifted, 'moved_caught'):>15}"
        )
    seconds = [run["seconds"] for run in runs[1:]]  # the first one also imports Evidently
    print(
        f"time per comparison: median {statistics.median(seconds):.2f} s, "
        f"max {max(seconds):.2f} s over {len(seconds)} (Evidently included)"
    )
    false_alarms = [run for run in runs if run["case"] == "stable" and run["drift_detected"]]
    for run in false_alarms:
        prediction = " + prediction" if run["prediction_drift"] else ""
        print(f"  false alarm on {run['table']}: {run['drifted_columns']}{prediction}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--project", type=Path, help="a baked project whose environment is set up")
    parser.add_argument("--seeds", type=int, default=25, help="seeds per table (default 25: 225 stable runs)")
    parser.add_argument(
        "--prediction-reference",
        choices=["held-out", "training"],
        default="held-out",
        help="the rows whose predictions stand for the reference's (default: held-out, as `make monitor`)",
    )
    parser.add_argument("--inside", help=argparse.SUPPRESS)  # the package name, when run by the project
    arguments = parser.parse_args()
    if arguments.inside:
        print(json.dumps(measure_inside(arguments.inside, arguments.seeds, arguments.prediction_reference)))
        return
    with tempfile.TemporaryDirectory(prefix="drift-false-alarms-") as scratch:
        if arguments.project:
            project = arguments.project.resolve()
        else:
            from drift_stage import baked_project

            project = baked_project(Path(scratch))
        package = json.loads((project / ".cookiecutter.json").read_text())["package_name"]
        command = [
            str(project / ".venv/bin/python"),
            str(Path(__file__).resolve()),
            "--inside",
            package,
            "--seeds",
            str(arguments.seeds),
            "--prediction-reference",
            arguments.prediction_reference,
        ]
        output = subprocess.run(command, cwd=project, check=True, stdout=subprocess.PIPE, text=True).stdout
    print_figures(json.loads(output.splitlines()[-1]))


if __name__ == "__main__":
    sys.exit(main())
