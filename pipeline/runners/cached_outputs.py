"""TFX 1.16's cache lookup, with each cached output artifact paired with its own event.

A cached execution reuses the outputs of an earlier one: TFX reads that execution's
OUTPUT events, fetches their artifacts with `get_artifacts_by_id` and their types with
`get_artifact_types_by_id`, and zips the three lists by position
(tfx/orchestration/portable/cache_utils.py, `_get_outputs_of_execution`). ML Metadata
returns rows in whatever order the database produces them (its queries have no ORDER
BY). SQLite and MySQL happen to return artifacts by id; PostgreSQL plans the artifact
query's join with the Type table as a hash join that yields them in the order of their
types. A component with two outputs (the Trainer's model and model_run, the Evaluator's
evaluation and blessing) creates them in the order of a protobuf map, which changes from
process to process; when that order disagrees with their types', the cached execution
published each artifact under the other's key, so the next component found no `model`
(or no `blessing`) of the type it wanted.

`install` replaces the function with one that looks each event's artifact and type up by
id; everything else of TFX's caching is unchanged.
"""

from __future__ import annotations

import collections
from typing import Dict, List, Optional

from ml_metadata.proto import metadata_store_pb2
from tfx import types
from tfx.orchestration import metadata
from tfx.orchestration.portable import cache_utils
from tfx.types import artifact_utils


TFX_OUTPUTS_OF_EXECUTION = cache_utils._get_outputs_of_execution  # noqa: SLF001


def outputs_of_execution(metadata_handle: metadata.Metadata, execution_id: int
                         ) -> Optional[Dict[str, List[types.Artifact]]]:
    """Output key -> artifacts of the execution, None if any of them is gone or not LIVE
    (a partial result), as TFX's own function answers but independent of row order."""
    store = metadata_handle.store
    events = [event for event in store.get_events_by_execution_ids([execution_id])
              if event.type == metadata_store_pb2.Event.OUTPUT]
    artifacts = {artifact.id: artifact
                 for artifact in store.get_artifacts_by_id([e.artifact_id for e in events])}
    if (any(e.artifact_id not in artifacts for e in events)
            or any(a.state != metadata_store_pb2.Artifact.LIVE for a in artifacts.values())):
        return None
    type_ids = sorted({artifact.type_id for artifact in artifacts.values()})
    artifact_types = {t.id: t for t in store.get_artifact_types_by_id(type_ids)}
    result = collections.defaultdict(list)
    for event in events:
        artifact = artifacts[event.artifact_id]
        result[event.path.steps[0].key].append(
            artifact_utils.deserialize_artifact(artifact_types[artifact.type_id], artifact))
    return result


def install() -> None:
    """Makes TFX's cache lookup (`cache_utils.get_cached_outputs`) use the function above."""
    cache_utils._get_outputs_of_execution = outputs_of_execution  # noqa: SLF001
