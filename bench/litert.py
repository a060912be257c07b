"""The end-to-end TFLite file in LiteRT alone against the SavedModel in TensorFlow.

    .venv/bin/python bench/litert.py --version SERVING/VERSION --litert-python VENV/bin/python

VERSION is a pushed taxi version; its eval rows are written once as CSV (for the
LiteRT client) and as serialized tf.Examples (for the SavedModel), taken from the
--examples tfrecord (gzip). Each figure comes from fresh processes (bench/litert_probe.py):
start-up to the first prediction and peak memory of the process, and per-example
latency at batch 1 and 256 after warm-up. The LiteRT environment holds only
clients/requirements.txt, which the test tests/litert_e2e_test.py builds.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import process_probe  # noqa: E402
from components.layout import E2E_TFLITE_FILE, TFLITE_SUBDIR  # noqa: E402

PROBE = REPO / "bench" / "litert_probe.py"
STARTS = 3  # start-up is the median of this many fresh processes


def folder_bytes(path: Path, skip: str = "") -> int:
    return sum(f.stat().st_size for f in path.rglob("*")
               if f.is_file() and not (skip and skip in f.relative_to(path).parts))


def write_rows(examples: str, features: list[str], folder: Path) -> tuple[Path, Path]:
    import tensorflow as tf

    rows, records = folder / "rows.csv", folder / "examples.tfrecord"
    with open(rows, "w", newline="") as handle, tf.io.TFRecordWriter(str(records)) as out:
        writer = csv.writer(handle)
        writer.writerow(features)
        for record in tf.data.TFRecordDataset(examples, compression_type="GZIP").take(256):
            example = tf.train.Example.FromString(record.numpy())
            writer.writerow([_cell(example, f) for f in features])
            out.write(record.numpy())
    return rows, records


def _cell(example, name: str) -> str:
    feature = example.features.feature.get(name)
    for kind in ("bytes_list", "int64_list", "float_list"):
        values = getattr(feature, kind).value if feature is not None else []
        if values:
            return values[0].decode() if kind == "bytes_list" else repr(values[0])
    return ""


def measure(python: str, kind: str, version: Path, data: Path, folder: Path) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [python, str(PROBE), kind, str(version), str(data)]
    starts = [process_probe.run(command, folder / f"{kind}-{i}.log", REPO, env)
              for i in range(STARTS)]
    assert all(s.returncode == 0 for s in starts), (folder / f"{kind}-0.log").read_text()[-2000:]
    timed = subprocess.run([*command, "--time"], capture_output=True, text=True, env=env,
                           check=True).stdout.split("\n")
    latency = dict(line.split() for line in timed if line.strip())
    return {"startup": sorted(s.wall_seconds for s in starts)[STARTS // 2],
            "peak": max(s.peak_rss_bytes for s in starts),
            "batch1": float(latency["1"]), "batch256": float(latency["256"])}


def site_packages(python: str, package: str) -> Path:
    code = f"import {package}, os; print(os.path.dirname(os.path.dirname({package}.__file__)))"
    return Path(subprocess.run([python, "-c", code], capture_output=True, text=True,
                               check=True).stdout.strip())


def table(version: Path, litert_python: str, examples: str) -> str:
    import json

    sidecar = json.loads((version / TFLITE_SUBDIR / "model.json").read_text())
    features = [s["name"] for s in sidecar["preprocessing"]["features"]]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows, records = write_rows(examples, features, folder)
        lite = measure(litert_python, "litert", version, rows, folder)
        full = measure(sys.executable, "savedmodel", version, records, folder)
    tf_site = site_packages(sys.executable, "tensorflow")
    runtime = {"litert": folder_bytes(site_packages(litert_python, "ai_edge_litert")),
               "tf": folder_bytes(tf_site / "tensorflow")}
    size = {"litert": (version / TFLITE_SUBDIR / E2E_TFLITE_FILE).stat().st_size,
            "tf": folder_bytes(version, skip=TFLITE_SUBDIR)}
    mb = 1024 * 1024
    lines = ["| | end-to-end TFLite in LiteRT | SavedModel in TensorFlow | ratio |",
             "|---|---|---|---|"]

    def row(name, a, b, unit, scale=1.0):
        lines.append(f"| {name} | {a / scale:.3g} {unit} | {b / scale:.3g} {unit} | {a / b:.3f} |")

    row("model size", size["litert"], size["tf"], "KiB", 1024)
    row("start-up to first prediction", lite["startup"], full["startup"], "s")
    row("peak memory (RSS)", lite["peak"], full["peak"], "MiB", mb)
    row("latency per example, batch 1", lite["batch1"] * 1e6, full["batch1"] * 1e6, "µs")
    row("latency per example, batch 256", lite["batch256"] * 1e6, full["batch256"] * 1e6, "µs")
    row("installed runtime (whole LiteRT venv site-packages / tensorflow package alone)",
        runtime["litert"], runtime["tf"], "MiB", mb)
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="bench/litert.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", type=Path, required=True)
    parser.add_argument("--litert-python", required=True)
    parser.add_argument("--examples", required=True, help="an eval split tfrecord (gzip)")
    args = parser.parse_args(argv)
    print(table(args.version, args.litert_python, args.examples))


if __name__ == "__main__":
    main()
