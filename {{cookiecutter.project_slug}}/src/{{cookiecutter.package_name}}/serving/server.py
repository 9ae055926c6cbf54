"""Command `serve`: load the model (a stage's verified bundle, or the working copy's) and serve it.

`make serve [STAGE=local|prod] [PORT=8080]`; the rest comes from params.yaml's `serving:`.
"""

from __future__ import annotations

import argparse
import json
import threading
from collections.abc import Callable
from pathlib import Path

from ..config import LOCAL, ROLLING, Params, ServingParams, StageServing, load_params
from ..data.schema import Schema, load_schema
from ..errors import PipelineError
from ..registry.policy import Event, rollout_state
from .app import Service, create_app
from .checks import RequestChecks
from .loaded import LoadedModel, current_tag, load_bundle, load_local, load_tag
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


def rollout_tags(stage: str) -> tuple[Event, Event | None]:
    """The assignments of a stage's primary and of its candidate while a promotion rolls out."""
    from ..registry.versions import registry_events  # GTO: imported only when a stage is served

    rollout = rollout_state(registry_events(), stage)
    if rollout is None:
        raise PipelineError(
            f"no version has been assigned to {stage}: `make promote VERSION=... STAGE={stage}`"
        )
    return rollout.primary, rollout.candidate


RouterLoader = Callable[[ServingParams], Router]  # a serving section in, the router it asks for out


def stage_settings(serving: ServingParams, stage: str) -> StageServing:
    """The served stage's entry of serving.stages; a registry stage, and the stages the section
    names, are checked against .gto."""
    if stage == LOCAL:
        return serving.stage(LOCAL)
    from ..registry.versions import known_serving, known_stages  # GTO: only when a stage is served

    known_stages(stage)
    return known_serving(serving).stage(stage)


def router_loader(params: Params, stage: str) -> RouterLoader:
    """Build the router a serving section and the registry ask for now; versions in use stay loaded.

    A served stage under canary, ab or shadow with no candidate of its own takes its two versions
    from its rollout (the promoted candidate, and the primary it may replace); otherwise the
    stage's current version is stable and the stage's candidate names the other one.
    """
    loaded: dict[str, LoadedModel] = {}
    lock = threading.Lock()

    def load(key: str, loader: Callable[[], LoadedModel]) -> LoadedModel:
        if key not in loaded:
            loaded[key] = loader()
        return loaded[key]

    def by_tag(event: Event) -> LoadedModel:
        return load(event.version, lambda: load_tag(event.tag))

    def slots(settings: StageServing) -> tuple[LoadedModel, LoadedModel | None]:
        if stage != LOCAL and settings.strategy in ROLLING and not settings.candidate:
            primary, pending = rollout_tags(stage)
            return by_tag(primary), by_tag(pending) if pending else None
        if settings.strategy != "recreate" and not settings.candidate:
            raise PipelineError(
                f"serving.stages.{stage}.strategy {settings.strategy} needs a second version: set "
                f"serving.stages.{stage}.candidate to a stage (such as staging) or `local`"
                + (", or serve a stage (STAGE=prod)" if stage == LOCAL else "")
            )
        other = settings.candidate if settings.strategy != "recreate" else None
        return source(stage), source(other) if other else None

    def source(name: str) -> LoadedModel:
        if name == LOCAL:
            return load(name, lambda: load_local(params))
        tag = current_tag(name)
        return load(tag, lambda: load_tag(tag))

    def build(serving: ServingParams) -> Router:
        settings = stage_settings(serving, stage)
        with lock:
            stable, candidate = slots(settings)
            kept = {key: model for key, model in loaded.items() if model in (stable, candidate)}
            loaded.clear()
            loaded.update(kept)
        return Router(settings.strategy, stable, candidate, settings.canary_share, ab_share=settings.ab_share)

    return build


def bundle_router(bundle: Path) -> RouterLoader:
    """A bundle directory is served alone: in a container, KServe splits traffic between versions."""
    model = load_bundle(bundle)
    return lambda _: Router("recreate", model)


def reloader(load_router: RouterLoader, stage: str | Path) -> Callable[[], Router] | None:
    """A reload reads params.yaml's serving section again: the stage's strategy, candidate and shares.

    The working copy's model and a bundle are served alone, with nothing to reload.
    """
    if stage == LOCAL or isinstance(stage, Path):
        return None
    return lambda: load_router(load_params().serving)


def served_stage(stage: str | Path) -> str:
    """The stage the prediction log records: a bundle's own (its metadata.json), else the one served."""
    if isinstance(stage, Path):
        return json.loads((stage / "metadata.json").read_text(encoding="utf-8"))["stage"]
    return stage


def build_service(params: Params, stage: str | Path, log: bool = True) -> Service:
    """Load the version(s) the strategy needs, the checks, the metrics and the log."""
    settings = params.serving
    load_router = bundle_router(stage) if isinstance(stage, Path) else router_loader(params, stage)
    router = load_router(settings)
    schema = load_schema(params.paths.data_schema)
    features = [feature for model in router.models for feature in model.features]
    checks = RequestChecks(schema, features, params.data.drop_columns, params.data.target)
    metrics = ServingMetrics(prediction_buckets(schema, params))
    prediction_log = (
        PredictionLog(
            settings.log_dir,
            served_stage(stage),
            sensitive=[name for name, rules in schema.columns.items() if rules.sensitive],
            capacity=settings.log_queue,
            on_drop=metrics.log_dropped.inc,
        )
        if log
        else None
    )
    return Service(
        router,
        checks,
        settings,
        metrics,
        prediction_log,
        reload=reloader(load_router, stage),
    )


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
