"""The model's view of the data: which columns are features, of what kind, and the label.

This lives beside the transform and trainer modules rather than in the pipeline's
config loader because it is what crosses into the components: the pipeline passes it
to Transform and Trainer as `custom_config` (a plain dict), and they rebuild it here.
Nothing in this module imports TensorFlow, so the CLI can validate a config cheaply.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

NUMERIC = "numeric"
CATEGORICAL = "categorical"
BUCKETIZED = "bucketized"
KINDS = (NUMERIC, CATEGORICAL, BUCKETIZED)

ONE_HOT = "one_hot"
EMBEDDING = "embedding"
ENCODINGS = (ONE_HOT, EMBEDDING)

# Z-scores are clipped so that one outlier cannot stretch the int8 input scale of
# the quantized model; 5 standard deviations keeps almost every real value intact.
Z_SCORE_CLIP = 5.0


def transformed_name(name: str) -> str:
    return f"{name}_xf"


@dataclass(frozen=True)
class Feature:
    """One input column and how the transform and the model treat it."""

    name: str
    kind: str
    # categorical: vocabulary size kept (most frequent first) and out-of-vocabulary buckets.
    top_k: int = 1000
    oov_buckets: int = 10
    # bucketized: number of quantile buckets (one more id is kept for a missing value).
    buckets: int = 10
    encoding: str = ONE_HOT
    embedding_dim: int = 8

    @property
    def transformed(self) -> str:
        return transformed_name(self.name)

    @property
    def is_numeric(self) -> bool:
        return self.kind == NUMERIC


@dataclass(frozen=True)
class Label:
    """The label column: integer class ids 0..num_classes-1 (2 means binary)."""

    name: str
    num_classes: int = 2

    @property
    def transformed(self) -> str:
        return transformed_name(self.name)

    @property
    def is_binary(self) -> bool:
        return self.num_classes == 2


@dataclass(frozen=True)
class FeatureSet:
    label: Label
    features: tuple[Feature, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"label": dataclasses.asdict(self.label),
                "features": [dataclasses.asdict(f) for f in self.features]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "FeatureSet":
        return cls(label=Label(**data["label"]),
                   features=tuple(Feature(**f) for f in data["features"]))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)
