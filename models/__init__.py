"""Module files TFX's standard components load by module path: Transform's
`preprocessing_fn`, the Trainer's `run_fn` with the model and its TFLite export, and the
Evaluator's extractors and metrics."""

import os

# TFX 1.16's trainer code and tensorflow-model-optimization need Keras 2 (tf_keras);
# set before anything imports TensorFlow, in every process that loads this code.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
