"""Trainer's `run_fn`: a thin adapter from TFX's FnArgs to the model and export modules.

The serving signature takes serialized tf.Examples (without the label) and applies the
transform graph, so the SavedModel answers raw requests (and TFMA evaluates it on the
raw eval split, reading the label column as it is). Beside
the SavedModel the int8 TFLite core and its sidecar are written to `Format-TFLite`, so
the Pusher ships both from the one Model artifact.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
from tfx.components.trainer.fn_args_utils import DataAccessor, FnArgs
from tfx.utils import io_utils
from tfx_bsl.tfxio import dataset_options

from components.layout import SERVING_SIGNATURE, TFLITE_MODEL_DIR, TRANSFORM_SUBDIR
from models import autograph_rules
from models import tflite_deploy, tflite_export
from models.features import CATEGORICAL, BUCKETIZED, FeatureSet
from models.model import build_model, hold_variables, loss_name
from models.preprocessing import vocabulary_name

REPRESENTATIVE_ROWS = 1000
ENCODE_BATCH = 1024


def run_fn(fn_args: FnArgs) -> None:
    autograph_rules.skip_tf_keras()  # a Trainer on Kubeflow runs in its own process
    feature_set = FeatureSet.from_dict(fn_args.custom_config["features"])
    training = fn_args.custom_config["training"]
    tf.keras.utils.set_random_seed(training["seed"])
    transform_output = tft.TFTransformOutput(fn_args.transform_output)
    transform_layer = transform_output.transform_features_layer()

    def dataset(files, epochs=None, shuffle=True, batch_size=training["batch_size"]):
        return _dataset(files, fn_args.data_accessor, transform_output, transform_layer,
                        feature_set, batch_size, training["seed"], epochs, shuffle)

    model, encoder, core, layout = build_model(
        feature_set, cardinalities(feature_set, transform_output),
        tuple(training["hidden_units"]), training["learning_rate"])
    model.fit(dataset(fn_args.train_files), steps_per_epoch=fn_args.train_steps,
              validation_data=dataset(fn_args.eval_files), validation_steps=fn_args.eval_steps,
              verbose=0)
    servable = serving_module(model, transform_output, feature_set)
    tf.saved_model.save(servable, fn_args.serving_model_dir,
                        signatures={SERVING_SIGNATURE: servable.serve})

    # Encoding is inference only: batches of ENCODE_BATCH rather than the training size,
    # so the encoder's fixed per-call cost is paid a few times, not once per eval step.
    deploy = tflite_deploy.prepare(feature_set, fn_args.train_files, fn_args.data_accessor,
                                   transform_output, transform_layer,
                                   REPRESENTATIVE_ROWS, training["seed"])
    eval_vectors, eval_labels = encoded(
        encoder, dataset(fn_args.eval_files, 1, shuffle=False, batch_size=ENCODE_BATCH),
        fn_args.eval_steps * training["batch_size"])

    def qat_batches():
        return dataset(fn_args.train_files).map(lambda x, y: (encoder(x), y))

    converted, parity = tflite_export.export(
        core, lambda candidate: tflite_deploy.convert(deploy, candidate), eval_vectors,
        eval_labels, training["tflite_max_accuracy_gap"], qat_data=qat_batches,
        qat_steps=max(fn_args.train_steps // 4, 1), loss=loss_name(feature_set))
    # The model URI is a bucket on a cluster: paths are joined as strings, copied by fileio.
    tflite_dir = os.path.join(os.path.dirname(fn_args.serving_model_dir), TFLITE_MODEL_DIR)
    io_utils.copy_dir(fn_args.transform_output, os.path.join(tflite_dir, TRANSFORM_SUBDIR))
    tflite_export.write(tflite_dir, converted.core, parity, layout,
                        {"label": feature_set.label.name,
                         "num_classes": feature_set.label.num_classes,
                         "activation": "sigmoid" if feature_set.label.is_binary else "softmax"},
                        TRANSFORM_SUBDIR, float_bytes=tflite_export.float_size(core),
                        extra=tflite_deploy.finish(deploy, converted, str(tflite_dir)))


def cardinalities(feature_set: FeatureSet, transform_output: tft.TFTransformOutput) -> dict:
    """One-hot width per id feature: the vocabulary actually built plus OOV buckets."""
    sizes = {}
    for feature in feature_set.features:
        if feature.kind == CATEGORICAL:
            sizes[feature.name] = (transform_output.vocabulary_size_by_name(
                vocabulary_name(feature)) + feature.oov_buckets)
        elif feature.kind == BUCKETIZED:
            sizes[feature.name] = feature.buckets + 1
    return sizes


def _dataset(files, data_accessor: DataAccessor, transform_output: tft.TFTransformOutput,
             transform_layer, feature_set: FeatureSet, batch_size: int, seed: int, epochs,
             shuffle: bool):
    """(transformed features, label) batches: raw examples through the transform graph."""
    raw = data_accessor.tf_dataset_factory(
        files,
        dataset_options.TensorFlowDatasetOptions(
            batch_size=batch_size, num_epochs=epochs, shuffle=shuffle, shuffle_seed=seed),
        transform_output.raw_metadata.schema)
    label = feature_set.label.transformed

    def apply(features):
        transformed = transform_layer(features)
        return ({f.transformed: transformed[f.transformed] for f in feature_set.features},
                transformed[label])

    return raw.map(apply, num_parallel_calls=tf.data.AUTOTUNE)


def encoded(encoder: tf.keras.Model, batches, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Up to `limit` encoded vectors (the core's input) with their labels."""
    vectors, labels, count = [], [], 0
    for features, label in batches:
        vectors.append(encoder(features).numpy())
        labels.append(label.numpy().reshape(-1))
        count += len(labels[-1])
        if count >= limit:
            break
    return np.concatenate(vectors)[:limit], np.concatenate(labels)[:limit]


def serving_module(model, transform_output: tft.TFTransformOutput,
                   feature_set: FeatureSet) -> tf.Module:
    """What the SavedModel holds: the model's variables (`trainable`, `non_trainable`, all in
    the core: the encoder has none), the transform layer and `serve` (serialized tf.Examples
    in, predictions out)."""
    module = hold_variables(model)
    module.tft_layer = transform_output.transform_features_layer()
    raw_spec = transform_output.raw_feature_spec()
    raw_spec.pop(feature_set.label.name, None)

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def serve(serialized):
        features = module.tft_layer(tf.io.parse_example(serialized, raw_spec))
        return {"outputs": model(features, training=False)}

    module.serve = serve
    return module
