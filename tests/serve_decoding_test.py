"""Request decoding and validation of `serve` (TF Serving's REST formats), without a model."""

from __future__ import annotations

import json

import pytest

from pipeline.serving.server.decoding import FLOAT, INT, STRING, Input, RequestError, decode

INPUTS = {spec.name: spec for spec in [
    Input("fare", FLOAT, required=True),
    Input("trip_start_hour", INT, required=True),
    Input("company", STRING, required=False),
    Input("pickup_community_area", INT, required=False),
]}
ROW = {"fare": 12.5, "trip_start_hour": 14, "company": "Flash Cab"}


def body(payload) -> bytes:
    return json.dumps(payload).encode()


def refused(payload, raw: bytes | None = None) -> str:
    with pytest.raises(RequestError) as caught:
        decode(raw if raw is not None else body(payload), INPUTS)
    assert caught.value.status == 400
    return str(caught.value)


def test_rows_keep_raw_values_and_leave_absent_features_out():
    decoded = decode(body({"instances": [ROW, {"fare": 3, "trip_start_hour": 2.0,
                                               "company": None}]}), INPUTS)
    assert not decoded.columnar
    assert decoded.rows == [ROW, {"fare": 3.0, "trip_start_hour": 2}]
    assert isinstance(decoded.rows[1]["fare"], float)
    assert isinstance(decoded.rows[1]["trip_start_hour"], int)


def test_columns_become_rows():
    decoded = decode(body({"inputs": {"fare": [1.5, 2], "trip_start_hour": [1, 2],
                                      "company": ["A", None]},
                           "signature_name": "serving_default"}), INPUTS)
    assert decoded.columnar
    assert decoded.rows == [{"fare": 1.5, "trip_start_hour": 1, "company": "A"},
                            {"fare": 2.0, "trip_start_hour": 2}]


def test_a_one_value_list_is_the_value():
    decoded = decode(body({"instances": [{"fare": [4.0], "trip_start_hour": [3],
                                          "company": []}]}), INPUTS)
    assert decoded.rows == [{"fare": 4.0, "trip_start_hour": 3}]


def test_not_json():
    assert refused(None, raw=b"{not json").startswith("request body is not JSON")
    assert refused(None, raw=b"\xff\xfe").startswith("request body is not JSON")
    assert "JSON object" in refused([ROW])


def test_format_fields():
    assert "exactly one of" in refused({"instances": [ROW], "inputs": {"fare": [1.0]}})
    assert "exactly one of" in refused({})
    assert "'examples'" in refused({"examples": [ROW]})
    assert "signature_name 'other'" in refused({"instances": [ROW], "signature_name": "other"})
    assert "list of rows" in refused({"instances": ROW})
    assert "instances[0]: a row must be an object" in refused({"instances": [[1, 2]]})
    assert "'fare' must be a list" in refused({"inputs": {"fare": 1.0}})


def test_empty_batch():
    assert refused({"instances": []}).startswith("empty batch")
    assert refused({"inputs": {}}).startswith("empty batch")
    assert refused({"inputs": {"fare": [], "trip_start_hour": []}}).startswith("empty batch")


def test_missing_and_unknown_features_are_named():
    assert refused({"instances": [ROW, {"fare": 1.0}]}) == (
        "instances[1]: missing feature 'trip_start_hour' (the model needs a value for it)")
    assert "missing feature 'fare'" in refused({"instances": [{**ROW, "fare": None}]})
    message = refused({"instances": [{**ROW, "fares": 1.0}]})
    assert message == "instances[0]: unknown feature 'fares' (did you mean 'fare'?)"
    assert "unknown feature 'big_tipper'" in refused({"instances": [{**ROW, "big_tipper": 1}]})
    assert "inputs row 0: missing feature 'trip_start_hour'" in refused(
        {"inputs": {"fare": [1.0]}})


def test_wrong_types_name_feature_and_row():
    assert refused({"instances": [ROW, {**ROW, "fare": "12.5"}]}) == (
        "instances[1]: feature 'fare': \"12.5\" is not a number")
    assert "feature 'trip_start_hour': 1.5 is not an integer" in refused(
        {"instances": [{**ROW, "trip_start_hour": 1.5}]})
    assert "feature 'fare': true is not a number" in refused(
        {"instances": [{**ROW, "fare": True}]})
    assert "feature 'company': 7 is not a string" in refused(
        {"instances": [{**ROW, "company": 7}]})
    assert "feature 'fare': [1, 2] is not a number" in refused(
        {"instances": [{**ROW, "fare": [1, 2]}]})
    assert "inputs row 1: feature 'company'" in refused(
        {"inputs": {"fare": [1, 2], "trip_start_hour": [1, 2], "company": ["A", 3]}})


def test_columns_of_different_lengths():
    assert "feature 'trip_start_hour' has 1 values, 'fare' has 2" in refused(
        {"inputs": {"fare": [1, 2], "trip_start_hour": [1]}})


def test_values_a_tf_example_cannot_hold_and_deep_json():
    assert f"'trip_start_hour': {2**63} is not an integer" in refused(
        {"instances": [{**ROW, "trip_start_hour": 2**63}]})
    assert refused(None, raw=b"[" * 100000 + b"]" * 100000).startswith(
        "request body is not JSON")


def test_serialized_examples_as_tf_serving_sends_them():
    def example_row(serialized: bytes) -> dict:
        assert serialized == b"example"
        return dict(ROW)

    b64 = {"b64": "ZXhhbXBsZQ=="}  # base64 of b"example"
    for payload in ({"instances": [b64]}, {"instances": [{"examples": b64}]},
                    {"inputs": [b64]}, {"inputs": {"examples": [b64]}}):
        assert decode(body(payload), INPUTS, example_row).rows == [ROW], payload
    assert "not a base64 serialized tf.Example" in str(pytest.raises(
        RequestError, decode, body({"instances": [{"b64": "%%"}]}), INPUTS, example_row).value)
    assert "not accepted here" in refused({"instances": [b64]})
