"""The core file cut out of an end-to-end file computes exactly what that file's int8 part does."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from models import tflite_cut, tflite_e2e
from models.features import BUCKETIZED, CATEGORICAL, NUMERIC

SPECS = [
    {"name": "fare", "kind": NUMERIC, "dtype": "float32", "mean": 10.0, "std": 4.0,
     "clip": 5.0, "width": 1},
    {"name": "company", "kind": CATEGORICAL, "dtype": "string", "vocabulary": ["a", "b", "c"],
     "oov_id": 3, "oov_ids": {"": 4}, "width": 5},
    {"name": "latitude", "kind": BUCKETIZED, "dtype": "float32", "boundaries": [41.8, 41.9],
     "missing_id": 3, "width": 4},
]
WIDTH = 10


def raw_rows(count: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    fare = rng.gamma(2.0, 5.0, count).astype(np.float32)
    fare[::17] = np.nan
    return {"fare": fare,
            "company": rng.choice(np.array([b"a", b"b", b"c", b"zz", b""], object), count),
            "latitude": rng.uniform(41.7, 42.0, count).astype(np.float32)}


@pytest.fixture(scope="module")
def end_to_end() -> bytes:
    tf.keras.utils.set_random_seed(0)
    vector = tf.keras.Input(shape=(WIDTH,), name="encoded")
    hidden = tf.keras.layers.Dense(8, activation="relu")(vector)
    core = tf.keras.Model(vector, tf.keras.layers.Dense(1, activation="sigmoid")(hidden))
    return tflite_e2e.convert(tflite_e2e.EndToEnd(SPECS, core), raw_rows(200, 0))


def interpreter(content: bytes, **options) -> tf.lite.Interpreter:
    model = tf.lite.Interpreter(model_content=content, **options)
    model.allocate_tensors()
    return model


def test_the_core_is_int8_in_and_out_with_only_the_core_s_operators(end_to_end):
    core = interpreter(tflite_cut.cut_core(end_to_end, tflite_e2e.SIGNATURE, WIDTH))
    assert core.get_input_details()[0]["dtype"] == np.int8
    assert list(core.get_input_details()[0]["shape_signature"]) == [-1, WIDTH]
    assert core.get_output_details()[0]["dtype"] == np.int8
    ops = {op["op_name"] for op in core._get_ops_details()}  # pylint: disable=protected-access
    assert "FULLY_CONNECTED" in ops
    assert not ops & {"HASHTABLE_FIND", "QUANTIZE", "DEQUANTIZE", "SUB", "CALL_ONCE"}, ops
    assert len(tflite_cut.cut_core(end_to_end, tflite_e2e.SIGNATURE, WIDTH)) < len(end_to_end)


def test_the_core_reproduces_the_end_to_end_file_s_int8_output_exactly(end_to_end):
    """Each row's int8 vector, read inside the end-to-end file after its QUANTIZE, goes
    through the cut core; the core's int8 output equals the end-to-end file's."""
    # The same kernels for both: reading every tensor rules out XNNPACK for the full file,
    # and XNNPACK's int8 kernels may round differently from the reference ones.
    reference = tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    full = interpreter(end_to_end, experimental_preserve_all_tensors=True,
                       experimental_op_resolver_type=reference)
    details = {d["name"]: d for d in full.get_tensor_details()}
    core = interpreter(tflite_cut.cut_core(end_to_end, tflite_e2e.SIGNATURE, WIDTH),
                       experimental_op_resolver_type=reference)
    core_in, core_out = core.get_input_details()[0], core.get_output_details()[0]
    entry = details[core_in["name"]]["index"]
    exit_ = details[core_out["name"]]["index"]
    raw = raw_rows(64, 1)
    runner = full.get_signature_runner(tflite_e2e.SIGNATURE)
    for row in range(64):
        runner(**{name: values[row:row + 1] for name, values in raw.items()})
        vector, expected = full.get_tensor(entry), full.get_tensor(exit_)
        core.set_tensor(core_in["index"], vector)
        core.invoke()
        np.testing.assert_array_equal(core.get_tensor(core_out["index"]), expected)


def test_a_file_without_a_quantized_core_is_refused():
    vector = tf.keras.Input(shape=(3,))
    model = tf.keras.Model(vector, tf.keras.layers.Dense(1)(vector))
    content = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    with pytest.raises(ValueError, match="DEQUANTIZE out of the core"):
        tflite_cut.cut_core(content, tflite_e2e.SIGNATURE, 3)


def test_the_trainer_s_conversion_runs_again_for_a_second_core():
    """Quantization-aware training converts a second core after the first: each
    conversion builds the end-to-end file around its own core."""
    from models import tflite_deploy

    prepared = tflite_deploy.Prepared(SPECS, raw_rows(200, 0))
    outputs = []
    for seed in (0, 1):
        tf.keras.utils.set_random_seed(seed)
        vector = tf.keras.Input(shape=(WIDTH,))
        core = tf.keras.Model(vector, tf.keras.layers.Dense(1, activation="sigmoid")(vector))
        converted = tflite_deploy.convert(prepared, core)
        assert interpreter(converted.core).get_input_details()[0]["dtype"] == np.int8
        outputs.append(converted.end_to_end)
    assert outputs[0] != outputs[1]
