"""The training data of a pushed model version, found through ML Metadata lineage:
the version's push, the model it pushed, and the Examples its Trainer read."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from components import layout
from pipeline import config as config_lib
from pipeline.errors import DataError


@dataclass(frozen=True)
class TrainingExamples:
    pattern: str  # a glob of the split's TFRecord files
    description: str  # for the report's "baseline" line


def latest_pushed(config: config_lib.Config) -> Path:
    """The version the serving folder serves: its newest complete version."""
    from components.versioned_pusher.versions import latest_version

    version = latest_version(str(config.serving_dir)) if config.serving_dir.is_dir() else None
    if version is None:
        raise DataError(f"{config.serving_dir}: no pushed model (run the pipeline first, "
                        f"or pass --model)")
    return config.serving_dir / str(version)


def training_examples(config: config_lib.Config, version_dir: Path,
                      split: str = "train") -> TrainingExamples:
    """The `split` of the Examples the model in `version_dir` was trained on."""
    from pipeline.metadata import store as metadata_store
    from pipeline.metadata.walker import Walker, int_property

    if not (version_dir / layout.PUSH_RECORD).is_file():
        raise DataError(f"{version_dir}: not a pushed model version (no {layout.PUSH_RECORD})")
    walk = Walker(metadata_store.open_store(config, create=False), config.name)
    pushed = walk.pushed_at(str(version_dir))
    if pushed is None:
        raise DataError(f"{version_dir}: no push of this version in the "
                        f"{metadata_store.describe(config)}")
    examples = walk.training_examples(pushed)
    if examples is None:
        raise DataError(f"{version_dir}: no Examples found upstream of the pushed model in ML "
                        f"Metadata")
    span = int_property(examples, "span")
    return TrainingExamples(os.path.join(layout.split_uri(examples.uri, split), "*"),
                            f"training data of {version_dir.name} (span {span}, split {split})")
