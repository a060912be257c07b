"""Keeping ML Metadata truthful after crashes, and checking that it is.

A run killed with SIGKILL leaves its execution RUNNING forever and its outputs PENDING.
Runs hold the workspace lock, so when a new run starts no other run of this workspace
can be in progress: what this pipeline left RUNNING under this workspace's pipeline root
belongs to a dead process and is marked CANCELED. One store may be shared by several
pipelines and workspaces (a MySQL or PostgreSQL server), whose runs the lock does not
cover: their executions are never touched, and the check looks at this pipeline's
artifacts and executions under this workspace only. The check verifies the invariant
that matters for caching: every LIVE artifact's files exist.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2

from pipeline.metadata.walker import Execution, Walker, under

RUNNING = metadata_store_pb2.Execution.RUNNING
LIVE = metadata_store_pb2.Artifact.LIVE


@dataclass(frozen=True)
class Problem:
    what: str
    detail: str

    def __str__(self) -> str:
        return f"{self.what}: {self.detail}"


def _interrupted(walk: Walker, pipeline_root: str) -> list[Execution]:
    """The pipeline's RUNNING executions that write under `pipeline_root` (or write
    nothing): those of this workspace, which its lock covers."""
    found = []
    for execution in walk.pipeline_executions():
        if execution.last_known_state != RUNNING:
            continue
        uris = [a.uri for outputs in walk.outputs(execution).values() for a in outputs]
        if not uris or any(under(uri, pipeline_root) for uri in uris):
            found.append(execution)
    return found


def recover_interrupted(store: metadata_store.MetadataStore, pipeline_name: str,
                        pipeline_root: str) -> list[int]:
    """Marks this workspace's executions left RUNNING by a dead run as CANCELED; call
    only under the workspace lock."""
    stale = _interrupted(Walker(store, pipeline_name), pipeline_root)
    for execution in stale:
        execution.last_known_state = metadata_store_pb2.Execution.CANCELED
    if stale:
        store.put_executions(stale)
    return [e.id for e in stale]


def check(store: metadata_store.MetadataStore, pipeline_name: str,
          pipeline_root: str) -> list[Problem]:
    walk = Walker(store, pipeline_name)
    problems = []
    for artifact in walk.pipeline_artifacts():
        if artifact.state == LIVE and artifact.uri and "://" not in artifact.uri \
                and under(artifact.uri, pipeline_root) and not os.path.exists(artifact.uri):
            problems.append(Problem("missing files", f"artifact {artifact.id} ({artifact.type}) "
                                                     f"is LIVE but {artifact.uri} does not exist"))
    for execution in _interrupted(walk, pipeline_root):
        problems.append(Problem("interrupted run", f"execution {execution.id} "
                                                   f"({execution.type}) is still RUNNING"))
    return problems
