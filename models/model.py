"""The Keras model, built from the feature set: a weightless encoder and a dense core.

The split is what makes the int8 TFLite export possible. The encoder only turns the
transform's outputs into one float vector (z-scores as they are, ids one-hot); it has
no weights and no lookups. Everything learned lives in the core, which takes that
vector, so the core alone quantizes to full-integer TFLite. An embedding is written as
a bias-free dense layer over the feature's one-hot slice: mathematically the same as
an embedding lookup, but a FULLY_CONNECTED op that int8 kernels support.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import tensorflow as tf

from models.features import EMBEDDING, NUMERIC, Feature, FeatureSet


STEPS_PER_EXECUTION = 50


def hold_variables(model: tf.keras.Model, holder: tf.Module | None = None) -> tf.Module:
    """`holder` (a new tf.Module by default) given the model's variables, not the model.

    Every module that is saved or converted around a function calling the model holds
    it this way: a tracked Keras model makes saving trace every layer's call for Keras to
    revive it, which no consumer reads (TFMA, the Pusher, clients and the TFLite
    converter call the signature). The function closes over the model itself."""
    holder = tf.Module() if holder is None else holder
    holder.trainable = list(model.trainable_variables)
    holder.non_trainable = list(model.non_trainable_variables)
    return holder


@dataclass(frozen=True)
class Segment:
    """Where one feature sits in the core's input vector."""

    feature: str
    transformed: str
    kind: str
    encoding: str
    offset: int
    width: int


def input_layout(feature_set: FeatureSet, cardinalities: Mapping[str, int]) -> list[Segment]:
    """The order and width of each feature in the encoded vector (numeric: 1, ids: one-hot)."""
    layout, offset = [], 0
    for feature in feature_set.features:
        width = 1 if feature.kind == NUMERIC else cardinalities[feature.name]
        encoding = "z_score" if feature.kind == NUMERIC else feature.encoding
        layout.append(Segment(feature.name, feature.transformed, feature.kind, encoding,
                              offset, width))
        offset += width
    return layout


class SliceColumns(tf.keras.layers.Layer):
    """Columns [start, start+width) of a [batch, n] tensor, as a serializable layer."""

    def __init__(self, start: int, width: int, **kwargs):
        super().__init__(**kwargs)
        self.start, self.width = start, width

    def call(self, inputs):
        return inputs[:, self.start:self.start + self.width]

    def get_config(self):
        return {**super().get_config(), "start": self.start, "width": self.width}


def build_encoder(feature_set: FeatureSet, layout: list[Segment]) -> tf.keras.Model:
    inputs, parts = {}, []
    for feature, segment in zip(feature_set.features, layout):
        dtype = tf.float32 if feature.kind == NUMERIC else tf.int64
        inputs[feature.transformed] = tf.keras.Input(shape=(1,), name=feature.transformed,
                                                     dtype=dtype)
        parts.append(_encode(feature, segment, inputs[feature.transformed]))
    encoded = tf.keras.layers.Concatenate(name="encoded")(parts)
    return tf.keras.Model(inputs, encoded, name="encoder")


def _encode(feature: Feature, segment: Segment, tensor):
    flat = tf.keras.layers.Reshape((1,))(tensor)
    if feature.kind == NUMERIC:
        return flat
    return tf.keras.layers.CategoryEncoding(num_tokens=segment.width, output_mode="one_hot",
                                            name=f"one_hot_{feature.name}")(flat)


def build_core(feature_set: FeatureSet, layout: list[Segment],
               hidden_units: tuple[int, ...]) -> tf.keras.Model:
    width = layout[-1].offset + layout[-1].width
    vector = tf.keras.Input(shape=(width,), name="encoded", dtype=tf.float32)
    embedded = [f for f in feature_set.features if f.encoding == EMBEDDING and f.kind != NUMERIC]
    if embedded:
        by_name = {f.name: f for f in feature_set.features}
        parts = []
        for segment in layout:
            part = SliceColumns(segment.offset, segment.width,
                                name=f"slice_{segment.feature}")(vector)
            feature = by_name[segment.feature]
            if feature in embedded:
                part = tf.keras.layers.Dense(feature.embedding_dim, use_bias=False,
                                             name=f"embedding_{feature.name}")(part)
            parts.append(part)
        hidden = tf.keras.layers.Concatenate()(parts)
    else:
        hidden = vector
    for index, units in enumerate(hidden_units):
        hidden = tf.keras.layers.Dense(units, activation="relu", name=f"hidden_{index}")(hidden)
    label = feature_set.label
    if label.is_binary:
        output = tf.keras.layers.Dense(1, activation="sigmoid", name="probability")(hidden)
    else:
        output = tf.keras.layers.Dense(label.num_classes, activation="softmax",
                                       name="probabilities")(hidden)
    return tf.keras.Model(vector, output, name="core")


def build_model(feature_set: FeatureSet, cardinalities: Mapping[str, int],
                hidden_units: tuple[int, ...], learning_rate: float):
    """The trainable model (encoder then core), compiled, with the two halves for export."""
    layout = input_layout(feature_set, cardinalities)
    encoder = build_encoder(feature_set, layout)
    core = build_core(feature_set, layout, hidden_units)
    model = tf.keras.Model(encoder.inputs, core(encoder.outputs[0]), name="conveyor")
    # A small tabular model spends most of a step in Keras' per-step Python overhead;
    # running many steps inside one compiled call removes most of it.
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=learning_rate),
                  loss=loss_name(feature_set), metrics=keras_metrics(feature_set),
                  steps_per_execution=STEPS_PER_EXECUTION)
    return model, encoder, core, layout


def loss_name(feature_set: FeatureSet) -> str:
    return "binary_crossentropy" if feature_set.label.is_binary else "sparse_categorical_crossentropy"


def keras_metrics(feature_set: FeatureSet) -> list:
    if feature_set.label.is_binary:
        return [tf.keras.metrics.BinaryAccuracy(name="accuracy"), tf.keras.metrics.AUC(name="auc")]
    return [tf.keras.metrics.SparseCategoricalAccuracy(name="accuracy")]


def predicted_class(probabilities):
    """Class ids from the model's output (binary: threshold 0.5)."""
    import numpy as np

    probabilities = np.asarray(probabilities)
    if probabilities.shape[-1] == 1:
        return (probabilities[..., 0] > 0.5).astype(np.int64)
    return probabilities.argmax(axis=-1)
