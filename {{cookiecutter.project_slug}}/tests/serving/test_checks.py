import dataclasses

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data.schema import Schema
from {{ cookiecutter.package_name }}.serving.checks import RequestChecks

from .helpers import client, records, service, trained

GOOD = {"row_id": 1, "size": 50.0, "count": 3, "colour": "red"}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    return trained("classification", tmp_path_factory.mktemp("serving"), max_rows=5, max_bytes=2_000)


@pytest.fixture
def api(setup):
    return client(service(setup, log=False))


@pytest.mark.parametrize(
    ("row", "named"),
    [
        ({k: v for k, v in GOOD.items() if k != "size"}, "size: required"),
        ({**GOOD, "shoe_size": 42}, "shoe_size: unexpected"),
        ({**GOOD, "size": "big"}, "size: dtype (expected number)"),
        ({**GOOD, "count": 99}, "count: max (expected ≤ 9)"),
        ({**GOOD, "count": -1}, "count: min (expected ≥ 0)"),
        ({**GOOD, "colour": "purple"}, "colour: allowed (expected one of blue, green, red)"),
        ({**GOOD, "count": None}, "count: nullable (expected no nulls)"),
        ({**GOOD, "size": [1, 2]}, "size: dtype (expected a single value)"),
    ],
    ids=["missing", "unknown", "type", "above", "below", "category", "null", "nested"],
)
def test_each_broken_rule_is_a_400_naming_column_and_rule(api, row, named):
    answer = api.post("/predict", json=[row])

    assert answer.status_code == 400
    assert named in answer.json()["error"]
    assert answer.json()["request_id"]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b"", "empty: the request has no body"),
        (b"[]", "empty: the request holds no rows"),
        (b"{not json", "not JSON"),
        (b'{"size": 1}', "expected a JSON list of records"),
        (b"[" + b",".join([b'{"size": 1}'] * 6) + b"]", "too many rows: 6 (serving.max_rows allows 5)"),
        (b"[" + b" " * 3_000 + b"]", "too large: 3002 bytes (serving.max_bytes allows 2000)"),
    ],
    ids=["no-body", "no-rows", "not-json", "not-a-list", "too-many-rows", "too-large"],
)
def test_a_malformed_body_is_a_400(api, body, named):
    answer = api.post("/predict", content=body, headers={"content-type": "application/json"})

    assert answer.status_code == 400
    assert named in answer.json()["error"]


def test_nullable_columns_may_be_missing_values_and_identifiers_are_optional(api):
    row = {"size": None, "count": 2, "colour": None}

    answer = api.post("/predict", json=[row])

    assert answer.status_code == 200, answer.text


def test_the_target_is_ignored(api, setup):
    rows = [dict(row, target="high") for row in records(setup.frame, 2)]

    assert api.post("/predict", json=rows).status_code == 200


class Broken:
    def predict(self, frame):
        raise RuntimeError("secret internals")


def test_a_model_failure_is_a_500_with_the_request_id_and_no_traceback(setup):
    broken = dataclasses.replace(setup.model, pipeline=Broken())
    api = client(service(dataclasses.replace(setup, model=broken), log=False))

    answer = api.post("/predict", json=[GOOD], headers={"x-request-id": "r-42"})

    assert answer.status_code == 500
    assert answer.json() == {
        "error": "the model failed to score this request (see the server's log)",
        "request_id": "r-42",
    }


def test_a_datetime_column_accepts_iso_text_and_names_a_date_it_cannot_read():
    rules = {"dtype": "datetime", "min": "2024-01-01", "max": "2024-12-31", "soft": ["min", "max"]}
    schema = Schema.model_validate({"dataset": {"min_rows": 1}, "columns": {"day": rules}})
    checks = RequestChecks(schema, ["day"], [], "target")
    rows = pd.DataFrame({"day": ["2024-05-01", "2025-02-03T08:00:00Z", "01/05/2024"]})

    verdict = checks.check(rows)

    assert verdict.bad_rows == {2: ["day: dtype (expected datetime)"]}
    assert [(f.check, f.rows) for f in verdict.soft] == [("max", 1)]
    assert checks.prepare(rows.head(2))["day"].tolist() == ["2024-05-01", "2025-02-03T08:00:00Z"]
