"""Command `serve`: load the model (a stage's verified bundle, or the working copy's) and serve it.

`make serve [STAGE=local|prod] [PORT=8080]`; the rest comes from params.yaml's `serving:`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import Params, load_params
from ..data.schema import Schema, load_schema
from .app import Service, create_app
from .checks import RequestChecks
from .loaded import load_source
from .metrics import ServingMetrics
from .prediction_log import PredictionLog
from .router import Router


def prediction_buckets(schema: Schema, params: Params) -> tuple[float, ...] | None:
    """Regression: ten even buckets over the target's range in schema.yaml, if it has one."""
    rules = schema.columns.get(params.data.target)
    if params.task != "regression" or rules is None or rules.min is None or rules.max is None:
        return None
    step = (rules.max - rules.min) / 10
    return tuple(round(rules.min + step * number, 6) for number in range(11))


def build_service(params: Params, stage: str | Path, log: bool = True) -> Service:
    """Load the version(s) the strategy needs, the checks, the metrics and the log.

    A bundle directory is served alone: in a container, KServe splits traffic between versions.
    """
    settings = params.serving
    strategy = "recreate" if isinstance(stage, Path) else settings.strategy
    stable = load_source(stage, params)
    wanted = strategy != "recreate" and settings.candidate
    candidate = load_source(settings.candidate, params) if wanted else None
    router = Router(strategy, stable, candidate, settings.canary_share)
    schema = load_schema(params.paths.data_schema)
    features = [feature for model in router.models for feature in model.features]
    checks = RequestChecks(schema, features, params.data.drop_columns, params.data.target)
    metrics = ServingMetrics(prediction_buckets(schema, params))
    prediction_log = (
        PredictionLog(
            settings.log_dir,
            sensitive=[name for name, rules in schema.columns.items() if rules.sensitive],
            capacity=settings.log_queue,
            on_drop=metrics.log_dropped.inc,
        )
        if log
        else None
    )
    return Service(router, checks, settings, metrics, prediction_log)


def parser() -> argparse.ArgumentParser:
    command = argparse.ArgumentParser(
        prog=f"python -m {__package__.rsplit('.', 1)[0]} serve", description=__doc__
    )
    command.add_argument(
        "--stage", default="local", help="a registry stage (prod), or `local` for the working copy"
    )
    command.add_argument(
        "--bundle", type=Path, help="serve this bundle directory (from `make deploy`) alone; the image does"
    )
    command.add_argument("--port", type=int, help="default: serving.port")
    command.add_argument("--host", help="default: serving.host")
    return command


def main(argv: list[str]) -> None:
    import uvicorn  # only the server needs it

    arguments = parser().parse_args(argv)
    params = load_params()
    service = build_service(params, arguments.bundle or arguments.stage)
    for role, model in service.router.slots.items():
        print(f"serve: {role}: model {model.version} from {model.source}", flush=True)
    host = arguments.host or params.serving.host
    port = arguments.port or params.serving.port
    print(f"serve: {service.router.strategy} on http://{host}:{port} (OpenAPI at /docs)", flush=True)
    uvicorn.run(create_app(service), host=host, port=port, log_level="info")
