"""Runs inside the process being measured: loads one model, predicts, optionally times it.

    python bench/litert_probe.py litert VERSION_DIR ROWS_CSV [--time]
    python bench/litert_probe.py savedmodel VERSION_DIR EXAMPLES_TFRECORD [--time]

`litert` imports only the reference client (LiteRT and numpy); `savedmodel` imports
TensorFlow. Without --time it stops after the first prediction (start-up, peak memory);
with --time it prints per-example seconds at batch 1 and 256 as `batch seconds` lines.
"""

from __future__ import annotations

import csv
import os
import sys
import time

REPS = {1: 300, 256: 20}


def litert_predictor(version: str, rows_csv: str):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients"))
    import litert_predict as client
    from ai_edge_litert.interpreter import Interpreter

    model_dir = os.path.join(version, "tflite")
    sidecar = client.load_sidecar(model_dir)
    with open(rows_csv, newline="", encoding="utf-8") as handle:
        data = client.columns(list(csv.DictReader(handle)), sidecar["preprocessing"]["features"],
                              rows_csv)
    runner = Interpreter(model_path=os.path.join(model_dir, sidecar["end_to_end"]["file"])
                         ).get_signature_runner(sidecar["end_to_end"]["signature"])
    return lambda n: runner(**{k: v[:n] for k, v in data.items()})


def savedmodel_predictor(version: str, records: str):
    import tensorflow as tf

    serve = tf.saved_model.load(version).signatures["serving_default"]
    tensor = tf.constant([r.numpy() for r in tf.data.TFRecordDataset(records)])
    return lambda n: serve(examples=tensor[:n])


def main() -> None:
    kind, version, rows = sys.argv[1:4]
    predictor = (litert_predictor if kind == "litert" else savedmodel_predictor)(version, rows)
    predictor(1)
    if "--time" not in sys.argv:
        return
    for batch, reps in REPS.items():
        predictor(batch)
        started = time.perf_counter()
        for _ in range(reps):
            predictor(batch)
        print(batch, (time.perf_counter() - started) / reps / batch)


if __name__ == "__main__":
    main()
