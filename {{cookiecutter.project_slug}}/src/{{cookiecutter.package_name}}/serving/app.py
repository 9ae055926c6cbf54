"""The FastAPI app: Open Inference Protocol v2, a plain /predict, health, metrics, router control.

Anything the caller got wrong is a 400 with `{"error": ...}` naming the column and the rule;
a failure of the model is a 500 with the request id (the traceback stays in the server's log).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from ..config import ServingParams
from ..errors import PipelineError
from .checks import InvalidRequestError, RequestChecks, records_frame
from .loaded import MODEL_NAME, LoadedModel, Scored
from .metrics import ServingMetrics
from .prediction_log import PredictionLog
from .protocol import decode_request, encode_response, model_metadata
from .router import Route, Router

logger = logging.getLogger(__name__)
REQUEST_ID = "x-request-id"
PREDICT_EXAMPLE = [{"feature": "value"}]


class ModelError(RuntimeError):
    """The model raised on rows that passed the checks: our fault, not the caller's."""


@dataclass
class Service:
    """Everything a request needs, built once at start-up."""

    router: Router
    checks: RequestChecks
    settings: ServingParams
    metrics: ServingMetrics
    log: PredictionLog | None = None
    # Builds a new router from the registry: `/router/reload` after a promotion or a rollback.
    reload: Callable[[], Router] | None = None

    def answer(
        self, frame: pd.DataFrame, request_id: str, key: str | None, endpoint: str
    ) -> tuple[Route, Scored, pd.DataFrame]:
        """Check the rows, route them, score them, count and log them."""
        verdict = self.checks.check(frame)
        self.metrics.inputs(frame, verdict)
        if not verdict.passed:
            raise InvalidRequestError(verdict.message(), verdict.hard)
        prepared = self.checks.prepare(frame)
        route = self.router.route(key, request_id)
        scored, seconds = self.timed(route.answer, route.role, prepared, frame, request_id, endpoint)
        self.metrics.outputs(route.answer, scored, route.role)
        self.record(request_id, endpoint, route.answer, route.role, frame, scored, seconds)
        return route, scored, prepared

    def timed(
        self,
        model: LoadedModel,
        role: str,
        prepared: pd.DataFrame,
        frame: pd.DataFrame,
        request_id: str,
        endpoint: str,
    ) -> tuple[Scored, float]:
        """Score and time it; a failure is logged against the version (the rollout report counts it)."""
        started = time.perf_counter()
        try:
            scored = score(model, prepared)
        except ModelError as error:
            self.record(
                request_id, endpoint, model, role, frame, None, time.perf_counter() - started, str(error)
            )
            raise
        return scored, time.perf_counter() - started

    def shadow(
        self, model: LoadedModel, prepared: pd.DataFrame, answered: Scored, request_id: str, endpoint: str
    ) -> None:
        """Score a copy with the shadow after the answer went out; its result is only counted and logged."""
        try:
            scored, seconds = self.timed(model, "shadow", prepared, prepared, request_id, endpoint)
        except ModelError:
            self.metrics.shadow_errors.labels(model.version).inc()
            return
        self.metrics.outputs(model, scored, "shadow")
        differing = sum(a != b for a, b in zip(scored.predictions, answered.predictions, strict=True))
        if differing:
            self.metrics.shadow_disagreements.labels(model.version).inc(differing)
        self.record(request_id, endpoint, model, "shadow", prepared, scored, seconds)

    def record(
        self,
        request_id: str,
        endpoint: str,
        model: LoadedModel,
        role: str,
        frame: pd.DataFrame,
        scored: Scored | None,
        seconds: float,
        error: str | None = None,
    ) -> None:
        if self.log is None:
            return
        inputs = json.loads(frame.to_json(orient="records", double_precision=15))
        outputs: dict[str, Any] = {}
        if scored is not None:
            outputs["predictions"] = scored.predictions
        if scored is not None and scored.probabilities is not None:
            outputs["probabilities"] = scored.probabilities
        self.log.record(request_id, endpoint, model.version, role, inputs, outputs, seconds * 1000, error)


def score(model: LoadedModel, frame: pd.DataFrame) -> Scored:
    try:
        return model.score(frame)
    except Exception as error:
        raise ModelError(f"{model.version} failed: {error}") from error


def error_response(status: int, message: str, request_id: str, **extra: Any) -> JSONResponse:
    return JSONResponse(
        {"error": message, "request_id": request_id, **extra},
        status_code=status,
        headers={REQUEST_ID: request_id},
    )


def predict_body(model: LoadedModel, scored: Scored, request_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "request_id": request_id,
        "model_version": model.version,
        "predictions": scored.predictions,
    }
    if scored.probabilities is not None:
        body["probabilities"] = scored.probabilities
    return body


def create_app(service: Service) -> FastAPI:
    """The app over one service; the prediction log is flushed when the app shuts down."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if service.log is not None:
            service.log.close()

    app = FastAPI(
        title="Model server",
        description="Open Inference Protocol v2 and a plain /predict, checked against schema.yaml.",
        lifespan=lifespan,
    )
    settings, metrics = service.settings, service.metrics

    async def infer(
        request: Request,
        endpoint: str,
        decode: Callable[[Any], tuple[pd.DataFrame, str | None]],
        encode: Callable[[LoadedModel, Scored, str], dict[str, Any]],
    ) -> Response:
        started = time.perf_counter()
        request_id = request.headers.get(REQUEST_ID) or uuid.uuid4().hex
        version = "none"
        metrics.in_flight.labels(endpoint).inc()
        try:
            body = await request.body()
            if len(body) > settings.max_bytes:
                raise InvalidRequestError(
                    f"too large: {len(body)} bytes (serving.max_bytes allows {settings.max_bytes})"
                )
            if not body.strip():
                raise InvalidRequestError("empty: the request has no body")
            try:
                payload = json.loads(body)
            except ValueError as error:
                raise InvalidRequestError(f"not JSON: {error}") from error
            frame, sent_id = decode(payload)
            request_id = sent_id or request_id
            metrics.rows.labels(endpoint).observe(len(frame))
            key = request.headers.get(settings.sticky_header)
            route, scored, prepared = await run_in_threadpool(
                service.answer, frame, request_id, key, endpoint
            )
            version = route.answer.version
            response: Response = JSONResponse(
                encode(route.answer, scored, request_id), headers={REQUEST_ID: request_id}
            )
            if route.shadow is not None:
                response.background = BackgroundTask(
                    service.shadow, route.shadow, prepared, scored, request_id, endpoint
                )
        except InvalidRequestError as error:
            metrics.errors.labels(endpoint, "invalid").inc()
            failures = [asdict(failure) for failure in error.failures]
            response = error_response(
                400, str(error), request_id, **({"failures": failures} if failures else {})
            )
        except ModelError:
            logger.exception("request %s: the model failed", request_id)
            metrics.errors.labels(endpoint, "model").inc()
            response = error_response(
                500, "the model failed to score this request (see the server's log)", request_id
            )
        finally:
            metrics.in_flight.labels(endpoint).dec()
        metrics.requests.labels(endpoint, version, str(response.status_code)).inc()
        metrics.latency.labels(endpoint, version).observe(time.perf_counter() - started)
        return response

    def records(payload: Any) -> tuple[pd.DataFrame, str | None]:
        if isinstance(payload, dict) and isinstance(payload.get("records"), list):
            payload = payload["records"]
        if not isinstance(payload, list):
            raise InvalidRequestError("expected a JSON list of records: [{column: value, ...}, ...]")
        return records_frame(payload, settings.max_rows), None

    def known(name: str) -> None:
        if name != MODEL_NAME:
            raise UnknownModelError(name)

    class UnknownModelError(LookupError):
        pass

    @app.exception_handler(UnknownModelError)
    async def unknown_model(_: Request, error: UnknownModelError) -> JSONResponse:
        return JSONResponse(
            {"error": f"unknown model '{error}': this server has '{MODEL_NAME}'"}, status_code=404
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        request_id = request.headers.get(REQUEST_ID) or uuid.uuid4().hex
        logger.error("request %s failed", request_id, exc_info=error)
        return error_response(500, "internal error (see the server's log)", request_id)

    @app.get("/v2/health/live")
    def live() -> dict[str, bool]:
        return {"live": True}

    @app.get("/v2/health/ready")
    def ready() -> dict[str, bool]:
        return {"ready": True}

    @app.get("/v2")
    def server_metadata() -> dict[str, Any]:
        return {"name": "model-server", "version": "1", "extensions": []}

    @app.get("/v2/models/{name}")
    def metadata(name: str) -> dict[str, Any]:
        known(name)
        columns = {
            column: service.checks.schema.columns[column].dtype
            for column in service.checks.features
            if column in service.checks.schema.columns
        }
        return model_metadata(service.router.models, columns)

    @app.get("/v2/models/{name}/ready")
    def model_ready(name: str) -> dict[str, Any]:
        known(name)
        return {"name": name, "ready": True}

    @app.post(
        "/v2/models/{name}/infer",
        openapi_extra={
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
        },
    )
    async def infer_v2(name: str, request: Request) -> Response:
        """Open Inference Protocol v2: one input per column, `"parameters": {"content_type": "pd"}`."""
        known(name)
        return await infer(
            request, "v2", lambda body: decode_request(body, settings.max_rows), encode_response
        )

    @app.post(
        "/predict",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"type": "array", "items": {"type": "object"}},
                        "example": PREDICT_EXAMPLE,
                    }
                },
            }
        },
    )
    async def predict(request: Request) -> Response:
        """A JSON list of records in; predictions, probabilities, model version and request id out."""
        return await infer(request, "predict", records, predict_body)

    @app.get("/metrics")
    def metrics_page() -> Response:
        return Response(metrics.exposition(), media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.get("/router")
    def router_state() -> dict[str, Any]:
        return service.router.state()

    @app.post("/router/switch")
    def switch(request: Request) -> Response:
        """Blue-green: make the other slot live (from this machine only)."""
        return router_change(request, service.router.switch)

    @app.post("/router/rollback")
    def rollback(request: Request) -> Response:
        """Blue-green: make the previously live slot live again (from this machine only)."""
        return router_change(request, service.router.rollback)

    @app.post("/router/reload")
    def reload(request: Request) -> Response:
        """Load the slots that params.yaml's serving section and the registry say now."""
        return router_change(request, lambda: reload_router(service))

    def router_change(request: Request, change: Callable[[], object]) -> Response:
        if not from_this_machine(request):
            return JSONResponse(
                {"error": "the router is controlled from the server's own machine"}, status_code=403
            )
        try:
            change()
        except PipelineError as error:
            return JSONResponse({"error": str(error)}, status_code=409)
        return JSONResponse(service.router.state())

    show_slots(service)
    return app


def from_this_machine(request: Request) -> bool:
    """A caller on loopback (or a Unix socket, which has no address): only they may steer the router."""
    if request.client is None:
        return True
    try:
        return ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False


def show_slots(service: Service) -> None:
    """model_info: 1 for each version in a slot now, 0 for those that left."""
    for sample in service.metrics.model_info.collect()[0].samples:
        service.metrics.model_info.labels(**sample.labels).set(0)
    for name, model in service.router.slots.items():
        service.metrics.model_info.labels(model.version, name).set(1)


def reload_router(service: Service) -> None:
    """Swap in a router built anew; requests under way finish on the old one."""
    if service.reload is None:
        raise PipelineError("this server serves the working copy (STAGE=local): nothing to reload")
    service.router = service.reload()
    show_slots(service)
