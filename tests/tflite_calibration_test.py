"""The end-to-end file is calibrated on the inputs it will see: a string category that
decides the output must not be clipped away by the int8 ranges."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from models import tflite_e2e
from tests.tflite_cut_test import SPECS, WIDTH, raw_rows


def test_int8_output_follows_the_float_model_where_a_string_category_decides_it():
    vector = tf.keras.Input(shape=(WIDTH,))
    dense = tf.keras.layers.Dense(1, activation="sigmoid")
    core = tf.keras.Model(vector, dense(vector))
    weights = np.zeros([WIDTH, 1], np.float32)
    weights[1:4, 0] = [4.0, -4.0, 2.0]  # company "a", "b", "c": the vocabulary's one-hot
    dense.set_weights([weights, np.zeros([1], np.float32)])
    module = tflite_e2e.EndToEnd(SPECS, core)
    raw = raw_rows(300, 3)
    content = tflite_e2e.convert(module, raw_rows(200, 0))
    runner = tf.lite.Interpreter(model_content=content).get_signature_runner(tflite_e2e.SIGNATURE)
    int8 = runner(**raw)[tflite_e2e.OUTPUT][:, 0]
    float_ = module.serve(*[tf.constant(raw[s["name"]]) for s in SPECS])[tflite_e2e.OUTPUT]
    float_ = float_.numpy()[:, 0]
    assert float_.max() > 0.95 and float_.min() < 0.05
    assert np.abs(int8 - float_).max() < 0.02, np.abs(int8 - float_).max()
