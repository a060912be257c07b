"""Conveyor's TFX component code: the transform and trainer modules and custom components."""

import os

# TFX 1.16's trainer code and tensorflow-model-optimization need Keras 2 (tf_keras);
# set before anything imports TensorFlow, in every process that loads this code.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
