"""Open Inference Protocol (v2) over REST: a table in, one input per column; predictions out.

A request carries `"parameters": {"content_type": "pd"}` and one input per column (strings as
BYTES), as MLServer's and KServe's pandas codec expect. Without "pd" KServe would silently use
the first input only: such a request is refused here.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from .checks import SCALARS, InvalidRequestError
from .loaded import LoadedModel, Scored

INTEGERS = {f"{sign}INT{bits}" for sign in ("", "U") for bits in (8, 16, 32, 64)}
FLOATS = {"FP16", "FP32", "FP64"}
DATATYPES = INTEGERS | FLOATS | {"BOOL", "BYTES"}
SCHEMA_DATATYPES = {"integer": "INT64", "number": "FP64", "string": "BYTES", "boolean": "BOOL"}


def flat(data: Any) -> list[Any]:
    """A tensor's data in row-major order, whether sent flat or nested."""
    if not isinstance(data, list):
        return [data]
    values: list[Any] = []
    for item in data:
        values.extend(flat(item) if isinstance(item, list) else [item])
    return values


def fits(value: Any, datatype: str) -> bool:
    """Whether a JSON value can travel as the declared datatype (null always can: a gap)."""
    if value is None:
        return True
    if datatype == "BYTES":
        return isinstance(value, str)
    if datatype == "BOOL":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if datatype in INTEGERS:
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    return isinstance(value, int | float)


def decode_column(tensor: Any, position: int) -> tuple[str, list[Any]]:
    """One input as a column: its name and values, every structural rule of the spec checked."""
    if not isinstance(tensor, dict):
        raise InvalidRequestError(
            f"inputs[{position}]: expected an object with name, shape, datatype and data"
        )
    name = tensor.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidRequestError(f"inputs[{position}]: a name is required")
    datatype, shape = tensor.get("datatype"), tensor.get("shape")
    if datatype not in DATATYPES:
        raise InvalidRequestError(
            f"{name}: datatype {datatype!r} is not one of {', '.join(sorted(DATATYPES))}"
        )
    if not isinstance(shape, list) or not shape or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise InvalidRequestError(f"{name}: shape must be a list of sizes, such as [rows, 1]")
    if math.prod(shape[1:]) != 1:
        raise InvalidRequestError(f"{name}: shape {shape}: one input per column, so [rows] or [rows, 1]")
    values = flat(tensor.get("data"))
    if len(values) != shape[0]:
        raise InvalidRequestError(f"{name}: shape {shape} says {shape[0]} values, data holds {len(values)}")
    for value in values:
        if not isinstance(value, SCALARS) or not fits(value, datatype):
            raise InvalidRequestError(f"{name}: dtype (expected {datatype} values): {value!r}")
    return name, values


def decode_request(body: Any, max_rows: int) -> tuple[pd.DataFrame, str | None]:
    """The request's table and its id (if it sent one)."""
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
        raise InvalidRequestError("expected an inference request: an object with a list of inputs")
    content_type = (body.get("parameters") or {}).get("content_type")
    if content_type != "pd":
        raise InvalidRequestError(
            'send the table as one input per column with "parameters": {"content_type": "pd"} '
            f"(got content_type {content_type!r} and {len(body['inputs'])} inputs)"
        )
    columns: dict[str, list[Any]] = {}
    for position, tensor in enumerate(body["inputs"]):
        name, values = decode_column(tensor, position)
        if name in columns:
            raise InvalidRequestError(f"{name}: sent twice")
        columns[name] = values
    if not columns or not any(columns.values()):
        raise InvalidRequestError("empty: the request holds no rows")
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise InvalidRequestError(f"inputs disagree on the number of rows: {sorted(lengths)}")
    rows = lengths.pop()
    if rows > max_rows:
        raise InvalidRequestError(f"too many rows: {rows} (serving.max_rows allows {max_rows})")
    request_id = body.get("id")
    return pd.DataFrame(columns), str(request_id) if request_id is not None else None


def encode_response(model: LoadedModel, scored: Scored, request_id: str) -> dict[str, Any]:
    """The inference response: `predict` (one per row) and, for a classifier, `predict_proba`."""
    rows = len(scored.predictions)
    outputs: list[dict[str, Any]] = [
        {
            "name": "predict",
            "shape": [rows, 1],
            "datatype": "BYTES" if model.classes else "FP64",
            "data": [str(value) if model.classes else value for value in scored.predictions],
        }
    ]
    if model.classes and scored.probabilities is not None:
        outputs[0]["parameters"] = {"content_type": "str"}
        outputs.append(
            {
                "name": "predict_proba",
                "shape": [rows, len(model.classes)],
                "datatype": "FP64",
                "parameters": {"classes": ",".join(model.classes)},
                "data": [row[label] for row in scored.probabilities for label in model.classes],
            }
        )
    return {"model_name": "model", "model_version": model.version, "id": request_id, "outputs": outputs}


def model_metadata(models: list[LoadedModel], columns: dict[str, str]) -> dict[str, Any]:
    """What `GET /v2/models/model` says: versions, inputs (from schema.yaml), outputs."""
    primary = models[0]
    outputs = [{"name": "predict", "datatype": "BYTES" if primary.classes else "FP64", "shape": [-1, 1]}]
    if primary.classes:
        outputs.append({"name": "predict_proba", "datatype": "FP64", "shape": [-1, len(primary.classes)]})
    return {
        "name": "model",
        "versions": [model.version for model in models],
        "platform": "sklearn",
        "inputs": [
            {"name": name, "datatype": SCHEMA_DATATYPES.get(dtype, "BYTES"), "shape": [-1, 1]}
            for name, dtype in columns.items()
        ],
        "outputs": outputs,
        "parameters": {"content_type": "pd", "task": primary.task}
        | ({"classes": ",".join(primary.classes)} if primary.classes else {}),
    }
