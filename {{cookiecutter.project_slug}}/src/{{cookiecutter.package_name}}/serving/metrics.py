"""Prometheus metrics of the server: traffic, latency, inputs and outputs, per model version.

Each app has its own registry (with the process and Python collectors), so two apps in one
process (tests) never share counts. No label ever holds a request id.
"""

from __future__ import annotations

import collections

import pandas as pd
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from .checks import Verdict
from .loaded import LoadedModel, Scored

# Fine below 10 ms, where a server's own overhead lives; coarse up to 10 s.
LATENCY_BUCKETS = (
    0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075,
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
ROW_BUCKETS = (1, 2, 5, 10, 50, 100, 500, 1000, 5000, 10000)


class ServingMetrics:
    def __init__(self, prediction_buckets: tuple[float, ...] | None = None):
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        registry = self.registry
        self.requests = Counter(
            "serving_requests_total", "Requests answered, by endpoint, model version and status code.",
            ["endpoint", "model_version", "status"], registry=registry,
        )  # fmt: skip
        self.errors = Counter(
            "serving_errors_total", "Requests that failed: invalid (the caller's fault) or model (ours).",
            ["endpoint", "kind"], registry=registry,
        )  # fmt: skip
        self.latency = Histogram(
            "serving_request_duration_seconds", "Time from reading a request to its answer.",
            ["endpoint", "model_version"], buckets=LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip
        self.in_flight = Gauge(
            "serving_requests_in_progress", "Requests being answered now.", ["endpoint"], registry=registry
        )
        self.rows = Histogram(
            "serving_request_rows", "Rows per request.", ["endpoint"], buckets=ROW_BUCKETS, registry=registry
        )
        self.missing = Counter(
            "serving_input_missing_values_total", "Missing (null) values received, by column.",
            ["column"], registry=registry,
        )  # fmt: skip
        self.refused = Counter(
            "serving_rows_refused_total", "Rows refused by a schema check, by column and rule.",
            ["column", "check"], registry=registry,
        )  # fmt: skip
        self.warned = Counter(
            "serving_rows_warned_total", "Rows that broke a soft schema check (scored anyway).",
            ["column", "check"], registry=registry,
        )  # fmt: skip
        self.scored = Counter(
            "serving_rows_scored_total", "Rows scored, by model version and role.",
            ["model_version", "role"], registry=registry,
        )  # fmt: skip
        self.null_predictions = Counter(
            "serving_null_predictions_total", "Predictions that came out null (NaN).",
            ["model_version"], registry=registry,
        )  # fmt: skip
        self.classes = Counter(
            "serving_predicted_class_total", "Predicted classes, by model version.",
            ["model_version", "predicted_class"], registry=registry,
        )  # fmt: skip
        self.values = Histogram(
            "serving_prediction_value", "Predicted values (regression), by model version.",
            ["model_version"], buckets=prediction_buckets or Histogram.DEFAULT_BUCKETS, registry=registry,
        )  # fmt: skip
        self.shadow_disagreements = Counter(
            "serving_shadow_disagreements_total", "Rows where the shadow's prediction differed.",
            ["model_version"], registry=registry,
        )  # fmt: skip
        self.shadow_errors = Counter(
            "serving_shadow_errors_total", "Shadow scorings that failed (never seen by callers).",
            ["model_version"], registry=registry,
        )  # fmt: skip
        self.log_dropped = Counter(
            "serving_prediction_log_dropped_total", "Requests not logged because the log queue was full.",
            registry=registry,
        )  # fmt: skip
        self.model_info = Gauge(
            "serving_model_info", "1 for each loaded model version and its slot.",
            ["model_version", "slot"], registry=registry,
        )  # fmt: skip

    def inputs(self, frame: pd.DataFrame, verdict: Verdict) -> None:
        for column, count in frame.isna().sum().items():
            if count:
                self.missing.labels(str(column)).inc(int(count))
        for failure in verdict.hard:
            self.refused.labels(failure.column, failure.check).inc(max(failure.rows, 1))
        for failure in verdict.soft:
            self.warned.labels(failure.column, failure.check).inc(max(failure.rows, 1))

    def outputs(self, model: LoadedModel, scored: Scored, role: str) -> None:
        version = model.version
        self.scored.labels(version, role).inc(len(scored.predictions))
        nulls = sum(value is None for value in scored.predictions)
        if nulls:
            self.null_predictions.labels(version).inc(nulls)
        if role == "shadow":
            return
        if model.classes:
            labels = (str(value) for value in scored.predictions if value is not None)
            for label, count in collections.Counter(labels).items():
                self.classes.labels(version, label).inc(count)
        else:
            for value in scored.predictions:
                if value is not None:
                    self.values.labels(version).observe(float(value))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
