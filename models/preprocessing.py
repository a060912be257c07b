"""Transform's `preprocessing_fn`: full-pass feature engineering driven by the config.

The same graph is attached to the exported model, so serving applies exactly the
statistics (means, vocabularies, quantiles) computed here over the training data.
Missing values are handled so that the output is dense and finite for every row:
numeric features are z-scored over the present values and a missing one becomes the
mean (0); a missing bucketized value gets a bucket of its own; a missing category is
the empty string, which the vocabulary treats like any other value.
"""

from __future__ import annotations

from typing import Any, Mapping

import tensorflow as tf
import tensorflow_transform as tft

from models.features import (BUCKETIZED, CATEGORICAL, NUMERIC, Z_SCORE_CLIP, Feature,
                                 FeatureSet)


def preprocessing_fn(inputs: Mapping[str, Any], custom_config: Mapping[str, Any]) -> dict:
    feature_set = FeatureSet.from_dict(custom_config["features"])
    outputs = {f.transformed: transform_feature(f, inputs[f.name]) for f in feature_set.features}
    label = feature_set.label
    if label.name in inputs:  # absent when the graph is applied to serving requests
        outputs[label.transformed] = tf.cast(_dense(inputs[label.name], 0), tf.int64)
    return outputs


def vocabulary_name(feature: Feature) -> str:
    return f"vocabulary_{feature.name}"


def transform_feature(feature: Feature, values: Any) -> tf.Tensor:
    if feature.kind == NUMERIC:
        scaled = tft.scale_to_z_score(tf.cast(values, tf.float32) if _is_dense(values)
                                      else _cast_sparse(values, tf.float32))
        return tf.clip_by_value(_dense(scaled, 0.0), -Z_SCORE_CLIP, Z_SCORE_CLIP)
    if feature.kind == BUCKETIZED:
        floats = tf.cast(values, tf.float32) if _is_dense(values) else _cast_sparse(values, tf.float32)
        buckets = tft.bucketize(floats, feature.buckets)
        return _dense(buckets, feature.buckets)  # the extra id marks a missing value
    if feature.kind == CATEGORICAL:
        default = "" if values.dtype == tf.string else -1
        return tft.compute_and_apply_vocabulary(
            _dense(values, default), top_k=feature.top_k, num_oov_buckets=feature.oov_buckets,
            vocab_filename=vocabulary_name(feature))
    raise ValueError(f"unknown feature kind {feature.kind!r} for {feature.name!r}")


def _is_dense(values: Any) -> bool:
    return not isinstance(values, tf.SparseTensor)


def _cast_sparse(values: tf.SparseTensor, dtype) -> tf.SparseTensor:
    return tf.SparseTensor(values.indices, tf.cast(values.values, dtype), values.dense_shape)


def _dense(values: Any, default: Any) -> tf.Tensor:
    """A rank-1 tensor with one value per row; a missing value becomes `default`."""
    if _is_dense(values):
        return tf.reshape(values, [-1]) if values.shape.rank and values.shape.rank > 1 else values
    return tf.squeeze(
        tf.sparse.to_dense(tf.SparseTensor(values.indices, values.values,
                                           [values.dense_shape[0], 1]), default),
        axis=1)
