"""Reading what components wrote, for the run summary and lineage alike.

Each reader takes the MLMD record of an artifact (or its URI) and reads the files the
layout (components/layout.py) names. Local paths are read directly; a bucket URI goes
through TensorFlow's filesystems, loaded only then, so a report over a local workspace
starts without TensorFlow, TFX or TFMA.
"""

from __future__ import annotations

import fnmatch
import json
import os
import struct
from typing import Iterator

from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

from components import layout
from components.anomalies import Anomaly, from_proto
from pipeline.metadata.walker import string_property


def rows_per_split(statistics) -> dict[str, int]:
    """Examples per split of a StatisticsGen output."""
    rows = {}
    for split, stats in split_statistics(statistics):
        rows[split] = int(sum(d.num_examples for d in stats.datasets))
    return rows


def anomalies(artifact) -> list[Anomaly]:
    """Every anomaly of an ExampleValidator output, split by split."""
    found = []
    for split in _splits(artifact):
        proto = anomalies_pb2.Anomalies()
        proto.ParseFromString(read_bytes(os.path.join(layout.split_uri(artifact.uri, split),
                                                      layout.SCHEMA_DIFF_FILE)))
        found.extend(from_proto(proto, split))
    return found


def unseen_categories(statistics, schema_artifact) -> dict[str, list[str]]:
    """Values of string features outside the curated schema's domain, per feature.

    ExampleValidator tolerates them below the domain's min_domain_mass and the model maps
    them to OOV buckets; they are still worth a line in the summary, since a new value
    that grows is the first sign of a changed upstream system.
    """
    schema = read_schema(schema_artifact.uri)
    domains = {d.name: set(d.value) for d in schema.string_domain}
    wanted = {f.name: domains.get(f.domain) for f in schema.feature if f.domain in domains}
    wanted.update({f.name: set(f.string_domain.value) for f in schema.feature
                   if f.HasField("string_domain")})
    unseen: dict[str, set[str]] = {}
    for _, stats in split_statistics(statistics):
        for dataset in stats.datasets:
            for feature in dataset.features:
                name = feature.path.step[0] if feature.path.step else feature.name
                if name not in wanted or not feature.HasField("string_stats"):
                    continue
                values = {b.label for b in feature.string_stats.rank_histogram.buckets}
                values |= {v.value for v in feature.string_stats.top_values}
                new = values - wanted[name]
                if new:
                    unseen.setdefault(name, set()).update(new)
    return {name: sorted(values) for name, values in sorted(unseen.items())}


def drift_report(artifact) -> dict:
    """DriftCheck's report.json."""
    return json.loads(read_bytes(os.path.join(artifact.uri, layout.DRIFT_REPORT_FILE)))


def tflite_files(version_dir: str) -> tuple[str, dict]:
    """(the int8 TFLite file of a pushed version, the parity its sidecar records)."""
    folder = os.path.join(version_dir, layout.TFLITE_SUBDIR)
    sidecar = os.path.join(folder, layout.SIDECAR_FILE)
    parity = json.loads(read_bytes(sidecar)).get("parity", {}) if _exists(sidecar) else {}
    return os.path.join(folder, layout.TFLITE_FILE), parity


def size_of(path: str) -> int:
    """Bytes of a file, or of every file under a folder (a SavedModel)."""
    if _remote(path):
        gfile = _gfile()
        if not gfile.isdir(path):
            return gfile.stat(path).length
        return sum(gfile.stat(os.path.join(root, name)).length
                   for root, _, names in gfile.walk(path) for name in names)
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(root, name))
               for root, _, names in os.walk(path) for name in names)


# ---------------------------------------------------------------- files


def read_bytes(path: str) -> bytes:
    if _remote(path):
        return _gfile().GFile(path, "rb").read()
    with open(path, "rb") as handle:
        return handle.read()


def _exists(path: str) -> bool:
    return _gfile().exists(path) if _remote(path) else os.path.exists(path)


def glob(pattern: str) -> list[str]:
    if _remote(pattern):
        return sorted(_gfile().glob(pattern))
    folder, name = os.path.split(pattern)
    if not os.path.isdir(folder):
        return []
    return sorted(os.path.join(folder, n) for n in os.listdir(folder) if fnmatch.fnmatch(n, name))


def records(path: str) -> Iterator[bytes]:
    """The records of an uncompressed TFRecord file: each is a little-endian length,
    its CRC, the data and the data's CRC (the CRCs are not checked here)."""
    data = read_bytes(path)
    offset = 0
    while offset < len(data):
        (length,) = struct.unpack_from("<Q", data, offset)
        yield data[offset + 12:offset + 12 + length]
        offset += 12 + length + 4


def _remote(path: str) -> bool:
    return "://" in path


def _gfile():
    import tensorflow as tf

    return tf.io.gfile


def _splits(artifact) -> list[str]:
    return layout.split_names(string_property(artifact, "split_names") or "[]")


def split_statistics(statistics):
    """(split, DatasetFeatureStatisticsList) of each split of a StatisticsGen output."""
    for split in _splits(statistics):
        path = os.path.join(layout.split_uri(statistics.uri, split), layout.STATS_FILE)
        yield split, statistics_pb2.DatasetFeatureStatisticsList.FromString(read_bytes(path))


def read_schema(schema_dir: str) -> schema_pb2.Schema:
    """The one schema file in a Schema artifact's folder."""
    from google.protobuf import text_format

    [path] = glob(os.path.join(schema_dir, "*"))
    return text_format.Parse(read_bytes(path).decode("utf-8"), schema_pb2.Schema())
