"""Request bodies of TF Serving's REST predict API, decoded into raw feature rows.

The row format `{"instances": [{feature: value, ...}, ...]}` and the columnar format
`{"inputs": {feature: [value, ...], ...}}` both become a list of dicts of raw values, as the
CSV holds them (numbers, strings). A null or absent feature is a missing value, allowed
only for a feature the model's raw schema lets be absent. Every problem is a RequestError
whose message names the row and the feature. Plain Python: no TensorFlow here.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import json
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

from components.layout import SERVING_SIGNATURE

FLOAT, INT, STRING = "float", "int", "string"


class RequestError(Exception):
    """A request the server refuses: answered `{"error": message}` with `status`."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Input:
    """A raw feature the model takes: its type, and whether a row may leave it out."""

    name: str
    dtype: str  # FLOAT, INT or STRING
    required: bool


@dataclass(frozen=True)
class Decoded:
    rows: list[dict]
    columnar: bool  # answered as TF Serving answers "inputs": {"outputs": ...}


# TF Serving's request for the SavedModel's own signature (input "examples"): each value is
# {"b64": <a serialized tf.Example>}. `example_row` turns one into a dict of raw values.
EXAMPLES = "examples"
ExampleRow = Callable[[bytes], dict]


def decode(body: bytes, inputs: Mapping[str, Input],
           example_row: Optional[ExampleRow] = None) -> Decoded:
    try:
        request = json.loads(body)
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        raise RequestError(f"request body is not JSON: {str(error)[:200]}") from None
    if not isinstance(request, dict):
        raise RequestError('request body must be a JSON object with "instances" or "inputs"')
    extra = sorted(set(request) - {"instances", "inputs", "signature_name"})
    if extra:
        raise RequestError(f"unknown request field {extra[0]!r} (expected \"instances\" or "
                           "\"inputs\", and optionally \"signature_name\")")
    signature = request.get("signature_name", SERVING_SIGNATURE)
    if signature != SERVING_SIGNATURE:
        raise RequestError(f"unknown signature_name {signature!r} (this model has "
                           f"{SERVING_SIGNATURE!r})")
    if ("instances" in request) == ("inputs" in request):
        raise RequestError('request body needs exactly one of "instances" (rows) or "inputs" '
                           "(columns)")
    if "instances" in request:
        return Decoded(_rows(request["instances"], inputs, example_row), columnar=False)
    columns = request["inputs"]
    if isinstance(columns, list) or (isinstance(columns, dict) and list(columns) == [EXAMPLES]
                                     and EXAMPLES not in inputs):
        # the signature's one input, "examples", as a list or by name
        examples = columns if isinstance(columns, list) else columns[EXAMPLES]
        return Decoded(_rows(examples, inputs, example_row, "inputs"), columnar=True)
    return Decoded(_columns(columns, inputs), columnar=True)


def _rows(instances: Any, inputs: Mapping[str, Input], example_row: Optional[ExampleRow],
          field: str = "instances") -> list[dict]:
    if not isinstance(instances, list):
        raise RequestError(f'"{field}" must be a list of rows')
    if not instances:
        raise RequestError(f'empty batch: "{field}" holds no rows')
    rows = []
    for number, instance in enumerate(instances):
        where = f"{field}[{number}]"
        if isinstance(instance, dict) and list(instance) == [EXAMPLES] \
                and EXAMPLES not in inputs:
            instance = instance[EXAMPLES]  # the signature's input by name
        if isinstance(instance, dict) and list(instance) == ["b64"] and "b64" not in inputs:
            instance = _example(instance["b64"], example_row, where)
        if not isinstance(instance, dict):
            raise RequestError(f"{where}: a row must be an object of feature values")
        rows.append(_row(instance, inputs, where))
    return rows


def _example(encoded: Any, example_row: Optional[ExampleRow], where: str) -> dict:
    if example_row is None:
        raise RequestError(f"{where}: serialized tf.Examples are not accepted here")
    try:
        return example_row(base64.b64decode(encoded, validate=True))
    except (binascii.Error, TypeError, ValueError) as error:
        raise RequestError(f"{where}: \"b64\" is not a base64 serialized tf.Example "
                           f"({type(error).__name__})") from None


def _columns(columns: Any, inputs: Mapping[str, Input]) -> list[dict]:
    if not isinstance(columns, dict):
        raise RequestError('"inputs" must be an object of feature columns')
    if not columns:
        raise RequestError('empty batch: "inputs" holds no features')
    for name, column in columns.items():
        if not isinstance(column, list):
            raise RequestError(f"inputs: feature {name!r} must be a list of values")
    lengths = {name: len(column) for name, column in columns.items()}
    first = next(iter(lengths))
    for name, length in lengths.items():
        if length != lengths[first]:
            raise RequestError(f"inputs: feature {name!r} has {length} values, {first!r} has "
                               f"{lengths[first]}")
    if lengths[first] == 0:
        raise RequestError('empty batch: "inputs" columns hold no values')
    return [_row({name: column[i] for name, column in columns.items()}, inputs,
                 f"inputs row {i}") for i in range(lengths[first])]


def _row(values: dict, inputs: Mapping[str, Input], where: str) -> dict:
    row = {}
    for name, value in values.items():
        spec = inputs.get(name)
        if spec is None:
            raise RequestError(f"{where}: unknown feature {name!r}{_close(name, inputs)}")
        if isinstance(value, list) and len(value) <= 1:  # a tensor of shape [1], or []
            value = value[0] if value else None
        if value is not None:
            row[name] = _typed(value, spec, where)
    for spec in inputs.values():
        if spec.required and spec.name not in row:
            raise RequestError(f"{where}: missing feature {spec.name!r} (the model needs a "
                               "value for it)")
    return row


def _typed(value: Any, spec: Input, where: str):
    if spec.dtype == STRING:
        if isinstance(value, str):
            return value
    elif isinstance(value, bool):
        pass
    elif spec.dtype == FLOAT and isinstance(value, (int, float)):
        return float(value)
    elif spec.dtype == INT and isinstance(value, int) and _INT64[0] <= value <= _INT64[1]:
        return value
    elif spec.dtype == INT and isinstance(value, float) and math.isfinite(value) \
            and value.is_integer() and _INT64[0] <= value <= _INT64[1]:
        return int(value)
    shown = json.dumps(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    raise RequestError(f"{where}: feature {spec.name!r}: {shown} is not {_ARTICLE[spec.dtype]}")


_ARTICLE = {FLOAT: "a number", INT: "an integer", STRING: "a string"}
_INT64 = (-2**63, 2**63 - 1)


def _close(name: str, inputs: Mapping[str, Input]) -> str:
    matches = difflib.get_close_matches(name, list(inputs), n=1)
    return f" (did you mean {matches[0]!r}?)" if matches else ""
