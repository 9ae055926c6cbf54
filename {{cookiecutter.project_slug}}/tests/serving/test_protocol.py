import pytest

from .helpers import client, records, service, trained, v2_request


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    return trained("classification", tmp_path_factory.mktemp("serving"))


@pytest.fixture
def api(setup):
    served = service(setup, log=False)
    return client(served)


def test_both_protocols_give_the_same_predictions(api, setup):
    rows = records(setup.frame, 5)

    plain = api.post("/predict", json=rows)
    v2 = api.post("/v2/models/model/infer", json=v2_request(rows, request_id="abc-1"))

    assert plain.status_code == 200, plain.text
    assert v2.status_code == 200, v2.text
    body, inferred = plain.json(), v2.json()
    assert body["model_version"] == inferred["model_version"] == "v1.0.0"
    assert inferred["id"] == "abc-1"
    predict, proba = inferred["outputs"]
    assert (predict["name"], predict["shape"], predict["datatype"]) == ("predict", [5, 1], "BYTES")
    assert predict["data"] == body["predictions"]
    assert set(body["predictions"]) <= {"high", "low"}
    assert proba["shape"] == [5, 2]
    assert proba["data"][:2] == [body["probabilities"][0]["high"], body["probabilities"][0]["low"]]
    assert plain.headers["x-request-id"] == body["request_id"]


def test_a_request_id_header_is_kept(api, setup):
    answer = api.post("/predict", json=records(setup.frame, 1), headers={"x-request-id": "mine"})

    assert answer.json()["request_id"] == "mine"


def test_a_v2_request_without_the_pandas_content_type_is_refused(api, setup):
    body = v2_request(records(setup.frame, 2))
    del body["parameters"]

    answer = api.post("/v2/models/model/infer", json=body)

    assert answer.status_code == 400
    assert "content_type" in answer.json()["error"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"shape": [3, 1]}, "size: shape [3, 1] says 3 values, data holds 2"),
        ({"datatype": "FP128"}, "size: datatype 'FP128' is not one of"),
        ({"data": ["big", 1.0]}, "size: dtype (expected FP64 values): 'big'"),
        ({"shape": [2, 2]}, "one input per column"),
    ],
)
def test_a_malformed_v2_input_is_named(api, setup, change, message):
    body = v2_request(records(setup.frame, 2))
    body["inputs"][1].update(change)

    answer = api.post("/v2/models/model/infer", json=body)

    assert answer.status_code == 400
    assert message in answer.json()["error"]


def test_health_metadata_and_openapi(api):
    assert api.get("/v2/health/live").json() == {"live": True}
    assert api.get("/v2/health/ready").json() == {"ready": True}
    described = api.get("/v2/models/model").json()
    assert described["versions"] == ["v1.0.0"]
    assert [column["name"] for column in described["inputs"]] == ["size", "count", "colour"]
    assert api.get("/v2/models/other").status_code == 404
    assert api.post("/v2/models/other/infer", json={}).json()["error"].startswith("unknown model 'other'")
    paths = api.get("/openapi.json").json()["paths"]
    assert {"/predict", "/v2/models/{name}/infer", "/metrics"} <= set(paths)
    assert api.get("/docs").status_code == 200
