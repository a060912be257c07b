"""Reading the anomalies ExampleValidator writes, in the form people and the gate need."""

from __future__ import annotations

import os
from dataclasses import dataclass

from tensorflow_metadata.proto.v0 import anomalies_pb2

from components import layout


@dataclass(frozen=True)
class Anomaly:
    split: str
    feature: str
    kind: str
    description: str

    def __str__(self) -> str:
        return f"[{self.split}] {self.feature}: {self.kind}: {self.description}"


def read(artifact, splits: list[str] | None = None) -> list[Anomaly]:
    """Every anomaly of a TFX ExampleAnomalies artifact's splits (all splits when none
    are named)."""
    found = []
    for split in layout.split_names(artifact.split_names):
        if splits is not None and split not in splits:
            continue
        path = os.path.join(layout.split_uri(artifact.uri, split), layout.SCHEMA_DIFF_FILE)
        found.extend(from_proto(_read_binary(path), split))
    return found


def from_proto(proto: anomalies_pb2.Anomalies, split: str) -> list[Anomaly]:
    found = []
    for feature, info in sorted(proto.anomaly_info.items()):
        kinds = ", ".join(anomalies_pb2.AnomalyInfo.Type.Name(r.type) for r in info.reason)
        found.append(Anomaly(split, feature, kinds or "UNKNOWN",
                             info.description or info.short_description))
    if proto.HasField("dataset_anomaly_info"):
        info = proto.dataset_anomaly_info
        kinds = ", ".join(anomalies_pb2.AnomalyInfo.Type.Name(r.type) for r in info.reason)
        found.append(Anomaly(split, "(dataset)", kinds or "UNKNOWN",
                             info.description or info.short_description))
    return found


def _read_binary(path: str) -> anomalies_pb2.Anomalies:
    from tfx.utils import io_utils

    proto = anomalies_pb2.Anomalies()
    proto.ParseFromString(io_utils.read_bytes_file(path))
    return proto
