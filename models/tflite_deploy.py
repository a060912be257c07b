"""The Trainer's steps for the TensorFlow-free deployment: sample raw rows, read the
transform's statistics back as data, convert the end-to-end file, cut the int8 core out
of it, describe both in the sidecar.

Kept apart from the trainer so its `run_fn` stays a thin adapter: it calls `prepare`
before the int8 export, hands `convert` to it (so the core it checks for parity is the
one inside the end-to-end file) and calls `finish` after.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import tensorflow as tf
from tfx_bsl.tfxio import dataset_options

from components.layout import E2E_TFLITE_FILE
from models import tflite_cut, tflite_e2e, transform_probe
from models.tflite_export import Converted
from models.features import FeatureSet


@dataclass
class Prepared:
    specs: list
    columns: dict  # raw numpy columns of the sampled training rows


def prepare(feature_set: FeatureSet, files, data_accessor, transform_output, transform_layer,
            rows: int, seed: int) -> Prepared:
    raw = data_accessor.tf_dataset_factory(
        files, dataset_options.TensorFlowDatasetOptions(
            batch_size=rows, num_epochs=1, shuffle=True, shuffle_seed=seed),
        transform_output.raw_metadata.schema)
    batch = next(iter(raw))
    transformed = {k: v.numpy() for k, v in transform_layer(batch).items()}
    columns = tflite_e2e.dense_columns(feature_set, batch)
    specs = tflite_e2e.preprocessing_spec(feature_set, transform_output, columns, transformed,
                                          transform_probe.Probe(transform_layer, batch))
    return Prepared(specs, columns)


def convert(prepared: Prepared, core: tf.keras.Model) -> Converted:
    """The end-to-end file around `core`, and the core file cut out of it.

    A module per call: a module saved once keeps its traced signature, which captures the
    first core's variables, so the quantization-aware copy needs a module of its own."""
    module = tflite_e2e.EndToEnd(prepared.specs, core)
    end_to_end = tflite_e2e.convert(module, prepared.columns)
    width = sum(spec["width"] for spec in prepared.specs)
    return Converted(tflite_cut.cut_core(end_to_end, tflite_e2e.SIGNATURE, width), end_to_end)


def finish(prepared: Prepared, converted: Converted, directory: str) -> dict:
    """Writes the end-to-end file that was shipped; returns its sidecar keys."""
    content = converted.end_to_end
    tf.io.gfile.makedirs(directory)
    tflite_e2e.write(os.path.join(directory, E2E_TFLITE_FILE), content)
    return {
        "preprocessing": {
            "features": prepared.specs,
            "how": ("in input.layout order: numeric z = clip((x - mean) / std, -clip, clip) in "
                    "float32, 0 when missing; bucketized id = count(boundaries <= x), missing_id "
                    "when missing; categorical id = position in vocabulary, else from id_range or "
                    "oov_ids, else oov_id; ids one-hot over width; then quantize with "
                    "input.scale and input.zero_point"),
        },
        "end_to_end": {
            "file": E2E_TFLITE_FILE, "signature": tflite_e2e.SIGNATURE,
            "inputs": [{"name": s["name"], "dtype": s["dtype"], "shape": [-1]}
                       for s in prepared.specs],
            "output": tflite_e2e.OUTPUT, "bytes": len(content),
        },
    }
