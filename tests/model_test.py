"""The Keras model builder: layout, shapes, binary and multi-class heads, embeddings."""

import numpy as np
import pytest
import tensorflow as tf

from models.features import (BUCKETIZED, CATEGORICAL, EMBEDDING, NUMERIC, Feature,
                                 FeatureSet, Label)
from models.model import build_model, input_layout, predicted_class


def feature_set(num_classes=2, encoding="one_hot"):
    return FeatureSet(label=Label("y", num_classes), features=(
        Feature("x", NUMERIC),
        Feature("c", CATEGORICAL, encoding=encoding, embedding_dim=3),
        Feature("b", BUCKETIZED, buckets=4)))


CARDINALITIES = {"c": 6, "b": 5}


def batch(n, rng):
    return {"x_xf": rng.normal(size=(n, 1)).astype(np.float32),
            "c_xf": rng.integers(0, 6, size=(n, 1)),
            "b_xf": rng.integers(0, 5, size=(n, 1))}


def test_layout_places_each_feature_in_the_core_input():
    layout = input_layout(feature_set(), CARDINALITIES)
    assert [(s.feature, s.offset, s.width) for s in layout] == [("x", 0, 1), ("c", 1, 6),
                                                               ("b", 7, 5)]


@pytest.mark.parametrize("num_classes,width", [(2, 1), (4, 4)])
def test_output_shape_follows_the_label(num_classes, width):
    model, encoder, core, _ = build_model(feature_set(num_classes), CARDINALITIES, (8,), 0.01)
    rng = np.random.default_rng(0)
    out = model(batch(5, rng)).numpy()
    assert out.shape == (5, width)
    assert np.all((out >= 0) & (out <= 1))
    if num_classes > 2:
        np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    assert encoder(batch(5, rng)).shape == (5, 12)
    np.testing.assert_allclose(core(encoder(batch(3, np.random.default_rng(1)))),
                               model(batch(3, np.random.default_rng(1))), rtol=1e-6)


def test_encoder_has_no_weights_so_the_core_holds_everything_learned():
    model, encoder, core, _ = build_model(feature_set(encoding=EMBEDDING), CARDINALITIES, (8,),
                                          0.01)
    assert encoder.trainable_weights == []
    assert any(layer.name == "embedding_c" for layer in core.layers)
    assert len(model.trainable_weights) == len(core.trainable_weights)


def test_one_hot_encoding_of_ids():
    _, encoder, _, _ = build_model(feature_set(), CARDINALITIES, (8,), 0.01)
    vector = encoder({"x_xf": np.array([[0.5]], np.float32), "c_xf": np.array([[2]]),
                      "b_xf": np.array([[4]])}).numpy()[0]
    assert vector[0] == 0.5
    assert list(vector[1:7]) == [0, 0, 1, 0, 0, 0]
    assert list(vector[7:12]) == [0, 0, 0, 0, 1]


@pytest.mark.parametrize("num_classes", [2, 3])
def test_model_learns_a_rule_on_the_category(num_classes):
    tf.keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    features = batch(2000, rng)
    labels = (features["c_xf"][:, 0] % num_classes).astype(np.int64)
    model, *_ = build_model(feature_set(num_classes), CARDINALITIES, (16,), 0.05)
    model.fit(features, labels, epochs=5, batch_size=64, verbose=0)
    assert np.mean(predicted_class(model.predict(features, verbose=0)) == labels) > 0.95
