"""What drift and skew compare, and against which bars: each feature's comparison kind
and the thresholds. Kept apart from the TFDV code (components/drift.py) so the config and
the commands read them without loading TFDV."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

NUMERIC, CATEGORICAL = "numeric", "categorical"
SOURCE_SCHEMA, SOURCE_FEATURE, SOURCE_DEFAULT = "schema", "config feature", "config default"
DEFAULT_NUMERIC_THRESHOLD = 0.1  # Jensen-Shannon divergence
DEFAULT_CATEGORICAL_THRESHOLD = 0.1  # L-infinity distance


@dataclass(frozen=True)
class Thresholds:
    """Config thresholds (the schema's comparators override them, see the module doc)."""

    numeric: float = DEFAULT_NUMERIC_THRESHOLD
    categorical: float = DEFAULT_CATEGORICAL_THRESHOLD
    per_feature: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"numeric": self.numeric, "categorical": self.categorical,
                "per_feature": dict(self.per_feature)}

    @classmethod
    def from_dict(cls, data: Mapping) -> "Thresholds":
        return cls(float(data["numeric"]), float(data["categorical"]),
                   {k: float(v) for k, v in data.get("per_feature", {}).items()})

    def for_feature(self, name: str, kind: str) -> tuple[float, str]:
        if name in self.per_feature:
            return self.per_feature[name], SOURCE_FEATURE
        return (self.numeric if kind == NUMERIC else self.categorical), SOURCE_DEFAULT


def feature_kinds(features) -> dict[str, str]:
    """Comparison kind of each config feature (models.features.FeatureSet)."""
    return {f.name: CATEGORICAL if f.kind == "categorical" else NUMERIC for f in features.features}
