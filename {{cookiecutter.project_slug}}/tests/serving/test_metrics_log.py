import json
import re

import pytest

from {{ cookiecutter.package_name }}.serving.prediction_log import PredictionLog, read_log

from .helpers import client, records, service, trained


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    return trained("classification", tmp_path_factory.mktemp("serving"))


def sample(text, name, **labels):
    """The value of one sample of the exposition text (0 if absent), whatever the label order."""
    line = re.compile("^" + re.escape(name) + r"\{(.*)\} (\S+)$", re.MULTILINE)
    for found in line.finditer(text):
        if dict(re.findall(r'(\w+)="([^"]*)"', found.group(1))) == labels:
            return float(found.group(2))
    return 0.0


def test_metrics_count_requests_errors_latency_inputs_and_outputs(setup):
    api = client(service(setup, log=False))
    rows = records(setup.frame, 20)
    missing_colour = sum(row["colour"] is None for row in rows)

    api.post("/predict", json=rows)
    answer = api.post("/predict", json=[{**rows[0], "count": 99}])
    text = api.get("/metrics").text

    assert answer.status_code == 400
    assert (
        sample(text, "serving_requests_total", endpoint="predict", model_version="v1.0.0", status="200") == 1
    )
    assert sample(text, "serving_requests_total", endpoint="predict", model_version="none", status="400") == 1
    assert sample(text, "serving_errors_total", endpoint="predict", kind="invalid") == 1
    assert sample(text, "serving_rows_refused_total", column="count", check="max") == 1
    assert sample(text, "serving_input_missing_values_total", column="colour") == missing_colour
    predicted = sum(
        sample(text, "serving_predicted_class_total", model_version="v1.0.0", predicted_class=label)
        for label in ("high", "low")
    )
    assert predicted == 20
    assert sample(text, "serving_rows_scored_total", model_version="v1.0.0", role="stable") == 20
    fine = {"endpoint": "predict", "model_version": "v1.0.0", "le": "0.002"}  # buckets below 5 ms
    assert sample(text, "serving_request_duration_seconds_bucket", **fine) <= 1
    everything = {**fine, "le": "+Inf"}
    assert sample(text, "serving_request_duration_seconds_bucket", **everything) == 1
    assert sample(text, "serving_requests_in_progress", endpoint="predict") == 0
    assert "process_resident_memory_bytes" in text


def test_every_answered_request_is_logged_with_its_stage_and_sensitive_columns_hashed(setup):
    served = service(setup, stage="staging")
    api = client(served)
    rows = records(setup.frame, 3)

    body = api.post("/predict", json=rows, headers={"x-request-id": "logged-1"}).json()
    api.post("/predict", json=[{**rows[0], "count": 99}])
    served.log.close()

    files = list(setup.params.serving.log_dir.glob("predictions-*.jsonl"))
    assert len(files) == 1
    entries = [json.loads(line) for line in files[0].read_text().splitlines()]
    [entry] = [entry for entry in entries if entry["request_id"] == "logged-1"]
    assert (entry["stage"], entry["model_version"]) == ("staging", "v1.0.0")
    assert entry["endpoint"] == "predict"
    assert entry["time"].endswith("+00:00")
    assert entry["outputs"]["predictions"] == body["predictions"]
    assert entry["outputs"]["probabilities"] == body["probabilities"]
    assert [row["size"] for row in entry["inputs"]] == [row["size"] for row in rows]
    assert all(row["row_id"].startswith("sha256:") for row in entry["inputs"])
    assert str(rows[0]["row_id"]) not in json.dumps(entry["inputs"][0]["row_id"])
    table = read_log(files[0])
    assert list(table["prediction"]) == body["predictions"]
    assert {"size", "count", "colour", "model_version"} <= set(table.columns)


def test_a_full_log_queue_drops_entries_instead_of_blocking(tmp_path):
    dropped = []
    log = PredictionLog(tmp_path, "prod", capacity=1, on_drop=lambda: dropped.append(1))
    log.entries.put(None)  # the writer stops at once; the queue then holds what comes next
    log.writer.join(5)

    log.record("a", "predict", "v1", "stable", [{"x": 1}], {"predictions": [1]})
    log.record("b", "predict", "v1", "stable", [{"x": 2}], {"predictions": [2]})

    assert dropped == [1]
