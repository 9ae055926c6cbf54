"""A small trained model, its schema and a server around it, for the serving tests."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from {{ cookiecutter.package_name }}.config import Params, Task
from {{ cookiecutter.package_name }}.data.schema import Schema, infer_schema, schema_text
from {{ cookiecutter.package_name }}.model.store import save_model
from {{ cookiecutter.package_name }}.model.train import metadata, train
from {{ cookiecutter.package_name }}.serving.app import Service, create_app
from {{ cookiecutter.package_name }}.serving.checks import RequestChecks
from {{ cookiecutter.package_name }}.serving.loaded import LoadedModel, from_files
from {{ cookiecutter.package_name }}.serving.metrics import ServingMetrics
from {{ cookiecutter.package_name }}.serving.prediction_log import PredictionLog
from {{ cookiecutter.package_name }}.serving.router import Router
from {{ cookiecutter.package_name }}.tables import features_and_target

from ..conftest import make_params, synthetic_frame

# Starlette's TestClient, imported with httpx, warns that it prefers httpx2: not our concern.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient


@dataclass(frozen=True)
class Trained:
    params: Params
    schema: Schema
    model: LoadedModel
    frame: pd.DataFrame


def trained(
    task: Task, root: Path, version: str = "v1.0.0", estimator: str | None = None, **serving: Any
) -> Trained:
    """Fit the synthetic frame's model (its default estimator, or this one), write it with its
    description and schema under root."""
    frame = synthetic_frame(task)
    model = {"model": {"estimator": estimator, "hyperparameters": {}}} if estimator else {}
    params = make_params(task, root, serving={"log_dir": str(root / "logs"), **serving}, **model)
    features, target = features_and_target(frame, params.data)
    pipeline = train(features, target, params)
    for path in (params.paths.model, params.paths.train):
        path.parent.mkdir(parents=True, exist_ok=True)
    save_model(pipeline, params.paths.model)
    frame.to_csv(params.paths.train, index=False)  # train's description records its hash
    params.paths.model_metadata.write_text(json.dumps(metadata(pipeline, features, params)))
    inferred = infer_schema(frame, params.data, task)
    inferred["columns"]["row_id"]["sensitive"] = True
    schema = Schema.model_validate(inferred)
    params.paths.data_schema.write_text(schema_text(inferred))
    model = from_files(params.paths.model, params.paths.model_metadata, version, "a test")
    return Trained(params, schema, model, frame)


def service(
    setup: Trained,
    strategy: str = "recreate",
    candidate: LoadedModel | None = None,
    log: bool = True,
    stage: str = "prod",
) -> Service:
    settings = setup.params.serving
    router = Router(strategy, setup.model, candidate, canary_share=0.1)  # type: ignore[arg-type]
    features = [feature for model in router.models for feature in model.features]
    data = setup.params.data
    checks = RequestChecks(setup.schema, features, data.drop_columns, data.target)
    metrics = ServingMetrics()
    prediction_log = (
        PredictionLog(settings.log_dir, stage, ["row_id"], on_drop=metrics.log_dropped.inc) if log else None
    )
    return Service(router, checks, settings, metrics, prediction_log)


def client(served: Service, address: str = "127.0.0.1") -> TestClient:
    """A client calling from `address` (the router answers only loopback callers)."""
    return TestClient(create_app(served), raise_server_exceptions=False, client=(address, 50_000))


def records(frame: pd.DataFrame, rows: int = 3) -> list[dict[str, Any]]:
    """The first rows of the synthetic frame as JSON records, without the target."""
    return json.loads(
        frame.drop(columns=["target"]).head(rows).to_json(orient="records", double_precision=15)
    )


def v2_request(rows: list[dict[str, Any]], request_id: str | None = None) -> dict[str, Any]:
    """The same rows as an Open Inference Protocol request: one input per column."""
    kinds = {"row_id": "INT64", "size": "FP64", "count": "INT64", "colour": "BYTES"}
    inputs = []
    for name, datatype in kinds.items():
        tensor = {
            "name": name,
            "shape": [len(rows), 1],
            "datatype": datatype,
            "data": [row[name] for row in rows],
        }
        if datatype == "BYTES":
            tensor["parameters"] = {"content_type": "str"}
        inputs.append(tensor)
    body: dict[str, Any] = {"parameters": {"content_type": "pd"}, "inputs": inputs}
    if request_id:
        body["id"] = request_id
    return body
