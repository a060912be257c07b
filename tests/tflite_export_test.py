"""int8 TFLite export of the core: int8 tensors in and out, int8 kernels, parity."""

import dataclasses
import json

import numpy as np
import pytest
import tensorflow as tf

from components.layout import SIDECAR_FILE, TFLITE_FILE
from models import tflite_export
from models.model import Segment
from tests.s3server import run_python, s3, s3_process  # noqa: F401 - fixtures


@pytest.fixture(scope="module")
def trained_core():
    tf.keras.utils.set_random_seed(3)
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(3000, 6)).astype(np.float32)
    labels = (vectors[:, 0] + 0.5 * vectors[:, 1] > 0).astype(np.int64)
    core = tf.keras.Sequential([tf.keras.Input((6,)), tf.keras.layers.Dense(16, "relu"),
                                tf.keras.layers.Dense(1, "sigmoid")])
    core.compile("adam", "binary_crossentropy")
    core.fit(vectors, labels, epochs=8, batch_size=64, verbose=0)
    return core, vectors, labels


def test_converted_model_has_int8_input_output_and_kernels(trained_core):
    core, vectors, _ = trained_core
    content = tflite_export.convert_int8(core, vectors[:300])
    interpreter = tf.lite.Interpreter(model_content=content)
    assert interpreter.get_input_details()[0]["dtype"] == np.int8
    assert interpreter.get_output_details()[0]["dtype"] == np.int8
    dtypes = {d["dtype"] for d in interpreter.get_tensor_details()}
    assert np.float32 not in dtypes  # no float tensor anywhere: full-integer
    assert np.int8 in dtypes


def test_parity_with_the_float_model(trained_core):
    core, vectors, labels = trained_core
    converted, parity = tflite_export.export(
        core, tflite_export.core_only(vectors[:300]), vectors[2000:], labels[2000:], max_gap=0.02)
    content = converted.core
    assert parity.method == "post_training"
    assert parity.examples == 1000
    assert parity.float_accuracy > 0.9
    assert parity.gap <= 0.02
    float_probabilities = core.predict(vectors[2000:2100], verbose=0)
    int8_probabilities = tflite_export.Int8Model(content).predict(vectors[2000:2100])
    assert np.max(np.abs(float_probabilities - int8_probabilities)) < 0.1


def test_sidecar_describes_quantization_and_layout(trained_core, tmp_path):
    core, vectors, labels = trained_core
    converted, parity = tflite_export.export(
        core, tflite_export.core_only(vectors[:300]), vectors[:500], labels[:500], 0.02)
    content = converted.core
    layout = [Segment("a", "a_xf", "numeric", "z_score", 0, 1),
              Segment("b", "b_xf", "categorical", "one_hot", 1, 5)]
    tflite_export.write(tmp_path, content, parity, layout, {"num_classes": 2}, "transform")
    sidecar = json.loads((tmp_path / SIDECAR_FILE).read_text())
    assert (tmp_path / TFLITE_FILE).read_bytes() == content
    assert sidecar["input"]["dtype"] == sidecar["output"]["dtype"] == "int8"
    assert sidecar["input"]["scale"] > 0 and -128 <= sidecar["input"]["zero_point"] <= 127
    assert [s["feature"] for s in sidecar["input"]["layout"]] == ["a", "b"]
    assert sidecar["transform"]["tft_output"] == "transform"
    assert sidecar["parity"]["gap"] == pytest.approx(parity.gap)


def test_quantization_aware_training_produces_an_int8_model_with_parity(trained_core):
    core, vectors, labels = trained_core
    batches = tf.data.Dataset.from_tensor_slices((vectors, labels)).batch(64).repeat()
    qat = tflite_export.quantization_aware_core(core, batches, 50, "binary_crossentropy")
    content = tflite_export.convert_int8(qat, vectors[:300])
    parity = tflite_export.measure_parity("quantization_aware", core, content, vectors[2000:],
                                          labels[2000:])
    assert tf.lite.Interpreter(model_content=content).get_input_details()[0]["dtype"] == np.int8
    assert parity.gap <= 0.02


def test_quantization_aware_core_of_the_real_model_with_embeddings():
    from tests.model_test import CARDINALITIES, feature_set
    from models.features import EMBEDDING
    from models.model import build_model

    _, encoder, core, _ = build_model(feature_set(encoding=EMBEDDING), CARDINALITIES, (8,), 0.01)
    vectors = np.random.default_rng(0).normal(size=(256, 12)).astype(np.float32)
    labels = np.zeros(256, np.int64)
    batches = tf.data.Dataset.from_tensor_slices((vectors, labels)).batch(64).repeat()
    qat = tflite_export.quantization_aware_core(core, batches, 2, "binary_crossentropy")
    content = tflite_export.convert_int8(qat, vectors[:50])
    assert tf.lite.Interpreter(model_content=content).get_output_details()[0]["dtype"] == np.int8


def test_the_export_and_its_transform_copy_write_into_a_bucket(trained_core, tmp_path, s3):
    """On a cluster the Model URI is a bucket: the Trainer's TFLite folder goes through
    tf.io.gfile (write) and fileio (the transform copy), never through a local path."""
    core, vectors, labels = trained_core
    converted, parity = tflite_export.export(
        core, tflite_export.core_only(vectors[:300]), vectors[:500], labels[:500], 0.02)
    content = converted.core
    (tmp_path / "core.tflite").write_bytes(content)
    model_dir = s3.uri("Trainer", "model", "7", "Format-TFLite")
    result = run_python(s3, f"""
import dataclasses, os
import tensorflow as tf
from tfx.utils import io_utils
from models import tflite_export
from models.model import Segment
transform = {s3.uri("Transform", "transform_graph")!r}
with tf.io.gfile.GFile(transform + "/transform_fn/saved_model.pb", "wb") as handle:
    handle.write(b"graph")
io_utils.copy_dir(transform, {model_dir!r} + "/transform")
content = open({str(tmp_path / "core.tflite")!r}, "rb").read()
parity = tflite_export.Parity(**{dataclasses.asdict(parity)!r})
tflite_export.write({model_dir!r}, content, parity, [Segment("a", "a_xf", "numeric", "z_score", 0, 1)],
                    {{"num_classes": 2}}, "transform", float_bytes=10)
result = sorted(tf.io.gfile.listdir({model_dir!r}))
""")
    assert [name.rstrip("/") for name in result] == sorted([SIDECAR_FILE, TFLITE_FILE, "transform"])
    prefix = "Trainer/model/7/Format-TFLite/"
    assert sorted(s3.keys(prefix)) == sorted(
        prefix + name for name in (SIDECAR_FILE, TFLITE_FILE, "transform/transform_fn/saved_model.pb"))
    body = s3.client().get_object(Bucket=s3.bucket, Key=prefix + TFLITE_FILE)["Body"].read()
    assert body == content
    sidecar = json.loads(s3.client().get_object(Bucket=s3.bucket, Key=prefix + SIDECAR_FILE)["Body"].read())
    assert sidecar["size"] == {"int8_tflite_bytes": len(content), "float_tflite_bytes": 10}
