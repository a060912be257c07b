"""From the walker's MLMD records to the references and the graph a lineage answer holds."""

from __future__ import annotations

import os
from typing import Optional

from pipeline.lineage.types import ArtifactRef, ExecutionRef, Graph, GraphEdge, GraphNode
from pipeline.metadata.walker import (INPUTS, OUTPUTS, Walker, event_key, int_property, iso,
                                      state_of)


def artifact_ref(walk: Walker, artifact) -> Optional[ArtifactRef]:
    if artifact is None:
        return None
    return ArtifactRef(artifact.id, walk.type_name(artifact), artifact.uri,
                       iso(artifact.create_time_since_epoch))


def execution_ref(walk: Walker, execution) -> Optional[ExecutionRef]:
    if execution is None:
        return None
    walk.visit_execution(execution.id)
    return ExecutionRef(execution.id, walk.node_of(execution), state_of(execution),
                        walk.run_of(execution), iso(execution.create_time_since_epoch),
                        iso(execution.last_update_time_since_epoch))


def artifact_refs(walk: Walker, **artifacts) -> dict[str, ArtifactRef]:
    """The named artifacts that exist, as references."""
    return {name: artifact_ref(walk, a) for name, a in artifacts.items() if a is not None}


def graph(walk: Walker) -> Graph:
    """Every artifact and execution the walk visited, and the events between them."""
    drawn = Graph()
    for artifact_id, artifact in sorted(walk.artifacts.items()):
        drawn.nodes.append(GraphNode(f"a{artifact_id}", "artifact", walk.type_name(artifact),
                                     _artifact_detail(walk, artifact)))
    for execution_id, execution in sorted(walk.executions.items()):
        drawn.nodes.append(GraphNode(f"e{execution_id}", "execution", walk.node_of(execution),
                                     state_of(execution)))
        for event in walk.execution_events(execution_id):
            if event.artifact_id not in walk.artifacts:
                continue
            if event.type in INPUTS:
                drawn.edges.append(GraphEdge(f"a{event.artifact_id}", f"e{execution_id}",
                                             event_key(event)))
            elif event.type in OUTPUTS:
                drawn.edges.append(GraphEdge(f"e{execution_id}", f"a{event.artifact_id}",
                                             event_key(event)))
    return drawn


def _artifact_detail(walk: Walker, artifact) -> str:
    """The tail of the artifact's URI, with the span of an Examples artifact."""
    detail = os.path.join(*artifact.uri.rstrip("/").split("/")[-2:]) if artifact.uri else ""
    span = int_property(artifact, "span")
    if span and walk.type_name(artifact) == "Examples":
        detail = f"span {span}; {detail}"
    return detail
