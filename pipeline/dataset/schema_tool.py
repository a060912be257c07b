"""Drafts a curated schema for a new dataset: TFDV's inference plus the environments.

The draft is where curation starts (tighten domains, presence, drift thresholds), not
a replacement for it: runs always read the checked-in file through ImportSchemaGen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import schema_pb2

from pipeline.config import Privacy, personal_schema

TRAINING = "TRAINING"
SERVING = "SERVING"


def draft_schema(csv_pattern: str, label: str,
                 privacy: Optional[Privacy] = None) -> schema_pb2.Schema:
    """`csv_pattern` is a glob (e.g. data/taxi/span-*/*.csv); the files share one header.
    With the config's `privacy`, no raw value of a personal column reaches the draft."""
    stats = tfdv.generate_statistics_from_csv(data_location=csv_pattern)
    schema = tfdv.infer_schema(stats, infer_feature_shape=False)
    allow_missing_values(schema)
    add_environments(schema, label)
    if privacy is not None:
        personal_schema.draft_entries(schema, privacy)
    return schema


def allow_missing_values(schema: schema_pb2.Schema) -> None:
    """An empty CSV cell reaches TFDV as a feature with no value, not as an absent one, so
    an optional column must allow zero values and need not be present in every span."""
    for feature in schema.feature:
        if feature.presence.min_fraction < 1.0:
            feature.value_count.min = 0
            feature.presence.min_count = 0


def add_environments(schema: schema_pb2.Schema, label: str) -> None:
    """TRAINING has every column; SERVING requests come without the label."""
    del schema.default_environment[:]
    schema.default_environment.extend([TRAINING, SERVING])
    tfdv.get_feature(schema, label).not_in_environment.append(SERVING)


def write(schema: schema_pb2.Schema, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tfdv.write_schema_text(schema, str(path))
