"""`serve`: a pushed version over TensorFlow Serving's REST API (FastAPI on uvicorn),
with the savedmodel or tflite backend and hot swap of newly pushed versions."""

# `--backend`: the SavedModel's serving signature, or the end-to-end int8 TFLite file.
BACKENDS = ("savedmodel", "tflite")
