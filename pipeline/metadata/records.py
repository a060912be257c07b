"""Reading one ML Metadata record: an execution's state, an event's key, a property, a time."""

from __future__ import annotations

import datetime
from typing import Optional

from ml_metadata.proto import metadata_store_pb2

Execution = metadata_store_pb2.Execution

_STATES = {
    Execution.NEW: "new",
    Execution.RUNNING: "running",
    Execution.COMPLETE: "executed",
    Execution.FAILED: "failed",
    Execution.CACHED: "cached",
    Execution.CANCELED: "canceled",
}


def state_of(execution: Execution) -> str:
    return _STATES.get(execution.last_known_state, "unknown")


def event_key(event) -> str:
    return next((s.key for s in event.path.steps if s.HasField("key")), "")


def int_property(node, name: str) -> Optional[int]:
    """An int property of an MLMD artifact or execution (typed or custom)."""
    return _property(node, name, "int_value")


def string_property(node, name: str) -> Optional[str]:
    """A string property of an MLMD artifact or execution (typed or custom)."""
    return _property(node, name, "string_value")


def _property(node, name: str, kind: str):
    if node is None:
        return None
    for table in (node.properties, node.custom_properties):
        if name in table:
            return getattr(table[name], kind)
    return None


def iso(millis: int) -> str:
    """An MLMD time (milliseconds since the epoch) as ISO 8601 UTC."""
    if not millis:
        return ""
    moment = datetime.datetime.fromtimestamp(millis / 1000, tz=datetime.timezone.utc)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
