"""Reference client for a pushed Conveyor model: CSV rows in, class probabilities out.

Needs only `ai-edge-litert` and numpy (clients/requirements.txt): no TensorFlow. It runs
either the end-to-end file (raw features in) or, with --core, the int8 core fed by
preprocessing the rows here from the sidecar's plain data, which is how a client in
another language uses the core. Usage:

    python clients/litert_predict.py --model-dir SERVING/VERSION/tflite --csv rows.csv [--core]

prints one CSV row of probabilities per input row. A bad value stops with one line
naming the file, row and feature.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys

import numpy as np
from ai_edge_litert.interpreter import Interpreter

SIDECAR_FILE = "model.json"  # components/layout.py names it; this client imports no project code
CORE_FILE = "model.tflite"


class BadInput(ValueError):
    pass


def load_sidecar(model_dir: str) -> dict:
    with open(os.path.join(model_dir, SIDECAR_FILE), encoding="utf-8") as handle:
        return json.load(handle)


def columns(rows: list[dict], specs: list[dict], source: str) -> dict:
    """One numpy column per feature; an empty or absent cell is a missing value."""
    out = {}
    for spec in specs:
        values = []
        for number, row in enumerate(rows, start=2):  # line 1 is the header
            cell = (row.get(spec["name"]) or "").strip()
            try:
                values.append(_parse(cell, spec))
            except ValueError:
                raise BadInput(f"{source}: line {number}: feature {spec['name']!r}: "
                               f"{cell!r} is not a {spec['dtype']}") from None
        dtype = object if spec["dtype"] == "string" else spec["dtype"]
        out[spec["name"]] = np.array(values, dtype=dtype)
    return out


def _parse(cell: str, spec: dict):
    if spec["dtype"] == "float32":
        return float(cell) if cell else np.nan
    if spec["dtype"] == "int64":
        return int(cell) if cell else -1
    return cell.encode("utf-8")


def encode(specs: list[dict], data: dict) -> np.ndarray:
    """The core's float32 input, computed as the end-to-end graph computes it."""
    parts = []
    for spec in specs:
        x = data[spec["name"]]
        if spec["kind"] == "numeric":
            z = (x - np.float32(spec["mean"])) / np.float32(spec["std"])
            z = np.where(np.isnan(x), np.float32(0), z)
            parts.append(np.clip(z, -spec["clip"], spec["clip"]).astype(np.float32)[:, None])
            continue
        if spec["kind"] == "bucketized":
            bounds = np.asarray(spec["boundaries"], np.float32)
            ids = (x[:, None] >= bounds[None, :]).sum(axis=1)
            ids = np.where(np.isnan(x), spec["missing_id"], ids)
        else:
            lookup = _lookup(spec)
            ids = np.array([lookup.get(v, spec["oov_id"]) for v in x], np.int64)
        parts.append(np.eye(spec["width"], dtype=np.float32)[ids])
    return np.concatenate(parts, axis=1)


def _lookup(spec: dict) -> dict:
    """Key -> id: the vocabulary's positions, then the out-of-vocabulary keys the sidecar
    lists with the ids the transform gives them."""
    lookup = {}
    if "id_range" in spec:
        first = spec["id_range"]["first"]
        lookup.update((first + i, id_) for i, id_ in enumerate(spec["id_range"]["ids"]))
    lookup.update((_key(k, spec), id_) for k, id_ in spec.get("oov_ids", {}).items())
    lookup.update((_key(v, spec), i) for i, v in enumerate(spec["vocabulary"]))
    return lookup


def _key(value, spec: dict):
    return value.encode("utf-8") if spec["dtype"] == "string" else int(value)


def predict_end_to_end(model_dir: str, sidecar: dict, data: dict) -> np.ndarray:
    e2e = sidecar["end_to_end"]
    interpreter = Interpreter(model_path=os.path.join(model_dir, e2e["file"]))
    runner = interpreter.get_signature_runner(e2e["signature"])
    return runner(**data)[e2e["output"]]


def quantize(vectors: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """float -> int8 as LiteRT's QUANTIZE kernel (the end-to-end file's entry into the core)
    computes it: x / scale in double precision, halves rounded away from zero."""
    scaled = np.asarray(vectors, np.float64) / np.float64(np.float32(scale))
    rounded = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)
    return np.clip(rounded + zero_point, -128, 127).astype(np.int8)


def predict_core(model_dir: str, sidecar: dict, data: dict, batch_size: int = 256) -> np.ndarray:
    vectors = encode(sidecar["preprocessing"]["features"], data)
    interpreter = Interpreter(model_path=os.path.join(model_dir, CORE_FILE))
    inp, out = sidecar["input"], sidecar["output"]
    index_in = interpreter.get_input_details()[0]["index"]
    index_out = interpreter.get_output_details()[0]["index"]
    results = []
    for start in range(0, len(vectors), batch_size):
        batch = vectors[start:start + batch_size]
        interpreter.resize_tensor_input(index_in, list(batch.shape))
        interpreter.allocate_tensors()
        interpreter.set_tensor(index_in, quantize(batch, inp["scale"], inp["zero_point"]))
        interpreter.invoke()
        raw = interpreter.get_tensor(index_out).astype(np.float32)
        results.append((raw - out["zero_point"]) * np.float32(out["scale"]))
    return np.concatenate(results)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", required=True, help="a pushed version's tflite/ folder")
    parser.add_argument("--csv", required=True, help="rows with a header naming the features")
    parser.add_argument("--core", action="store_true",
                        help="feed the int8 core, preprocessing from the sidecar")
    args = parser.parse_args(argv)
    sidecar = load_sidecar(args.model_dir)
    with open(args.csv, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    try:
        data = columns(rows, sidecar["preprocessing"]["features"], args.csv)
    except BadInput as error:
        print(error, file=sys.stderr)
        return 2
    predict = predict_core if args.core else predict_end_to_end
    probabilities = predict(args.model_dir, sidecar, data) if rows else np.zeros((0, 1))
    writer = csv.writer(sys.stdout)
    for row in probabilities:
        writer.writerow([repr(float(p)) for p in row])
    return 0


if __name__ == "__main__":
    sys.exit(main())
