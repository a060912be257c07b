"""What a lineage answer holds: plain dataclasses, rendered as a tree, JSON or DOT.

Their field names are the JSON format (README "Lineage"): renaming one is a format change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from pipeline.errors import DataError


class LineageError(DataError):
    """A lineage question about something the store does not hold (exit status 2)."""


# ---------------------------------------------------------------- result types


@dataclass
class ArtifactRef:
    id: int
    type: str
    uri: str
    created: str  # ISO 8601, UTC


@dataclass
class ExecutionRef:
    id: int
    component: str  # the component id, e.g. "Trainer"
    state: str  # executed, cached, failed, ...
    run_id: str
    started: str
    finished: str


@dataclass
class Step:
    """One execution of the chain, the artifacts that matter there, and plain facts."""

    execution: Optional[ExecutionRef]
    artifacts: dict[str, ArtifactRef] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class GraphNode:
    id: str  # "a<artifact id>" or "e<execution id>"
    kind: str  # artifact | execution
    label: str  # artifact type or component id
    detail: str = ""  # uri tail, state, span


@dataclass
class GraphEdge:
    source: str
    target: str
    key: str  # the input or output key, e.g. "examples"


@dataclass
class Graph:
    nodes: list[GraphNode] = field(default_factory=list)
    edges: list[GraphEdge] = field(default_factory=list)


@dataclass
class ModelLineage:
    """The chain from a pushed model back to the data, from the push to the evaluation
    that blessed it (the order of STEPS is the order of the JSON and of the tree)."""

    pipeline: str
    push: Step
    training: Step
    transform: Step
    schema: Step
    examples: Step
    validation: Step
    evaluation: Step
    graph: Graph = field(default_factory=Graph)

    STEPS = ("push", "training", "transform", "schema", "examples", "validation", "evaluation")


@dataclass
class Push:
    pushed: bool
    destination: str
    version: str
    execution: ExecutionRef


@dataclass
class ModelUse:
    """A model trained on the span and what became of it."""

    model: ArtifactRef
    trainer: ExecutionRef
    blessed: Optional[bool]  # None: never evaluated
    pushes: list[Push] = field(default_factory=list)

    @property
    def pushed(self) -> bool:
        return any(p.pushed for p in self.pushes)


@dataclass
class SpanLineage:
    pipeline: str
    span: int
    examples: list[Step]  # one per ingestion (a cached re-run reuses the artifact)
    models: list[ModelUse]
    touched: dict[str, int]  # artifact type -> how many artifacts derive from the span
    graph: Graph = field(default_factory=Graph)


@dataclass
class ComponentRun:
    component: str
    state: str
    execution_id: int


@dataclass
class RunRecord:
    run_id: str
    started: str
    finished: str
    components: list[ComponentRun]
    report: str = ""  # the run's HTML page, when one was written

    @property
    def state(self) -> str:
        states = {c.state for c in self.components}
        if "failed" in states:
            return "failed"
        if states & {"running", "new"}:
            return "running"
        return "complete"


@dataclass
class RunHistory:
    pipeline: str
    runs: list[RunRecord]
    graph: Graph = field(default_factory=Graph)
