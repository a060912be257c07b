"""Keeping ML Metadata truthful after crashes, and checking that it is.

A run killed with SIGKILL leaves its execution RUNNING forever and its outputs PENDING.
Runs hold the workspace lock, so when a new run starts no other run can be in progress:
whatever is still RUNNING belongs to a dead process and is marked CANCELED. The check
then verifies the invariant that matters for caching: every LIVE artifact's files exist.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2

RUNNING = metadata_store_pb2.Execution.RUNNING
LIVE = metadata_store_pb2.Artifact.LIVE


@dataclass(frozen=True)
class Problem:
    what: str
    detail: str

    def __str__(self) -> str:
        return f"{self.what}: {self.detail}"


def recover_interrupted(store: metadata_store.MetadataStore) -> list[int]:
    """Marks executions left RUNNING by a dead run as CANCELED; call only under the lock."""
    stale = [e for e in store.get_executions() if e.last_known_state == RUNNING]
    for execution in stale:
        execution.last_known_state = metadata_store_pb2.Execution.CANCELED
    if stale:
        store.put_executions(stale)
    return [e.id for e in stale]


def check(store: metadata_store.MetadataStore) -> list[Problem]:
    problems = []
    for artifact in store.get_artifacts():
        if artifact.state == LIVE and artifact.uri and "://" not in artifact.uri \
                and not os.path.exists(artifact.uri):
            problems.append(Problem("missing files", f"artifact {artifact.id} ({artifact.type}) "
                                                     f"is LIVE but {artifact.uri} does not exist"))
    for execution in store.get_executions():
        if execution.last_known_state == RUNNING:
            problems.append(Problem("interrupted run", f"execution {execution.id} "
                                                       f"({execution.type}) is still RUNNING"))
    return problems
