"""What a run did, read back from ML Metadata and the artifacts it points to.

The summary is built from the metadata store rather than from the runner's memory so
that it means the same thing for a run that executed, a run that was cached, and a
run that failed half way (the CLI prints it in every case).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Optional

from ml_metadata import metadata_store

from components.anomalies import Anomaly
from pipeline import evaluation, readers
from pipeline.metadata.walker import REPORT_PROPERTY, Walker, int_property, string_property


@dataclass
class RunSummary:
    run_id: str
    components: list[tuple[str, str]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # per component, start to end
    span: Optional[int] = None
    rows: dict[str, int] = field(default_factory=dict)
    anomalies: list[Anomaly] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    blessed: Optional[bool] = None
    failed_thresholds: list[str] = field(default_factory=list)
    pushed: Optional[bool] = None
    push_note: str = ""
    saved_model: Optional[str] = None
    pushed_version: Optional[str] = None
    tflite_model: Optional[str] = None
    tflite_parity: dict = field(default_factory=dict)
    unseen_categories: dict[str, list[str]] = field(default_factory=dict)
    drift: Optional[dict] = None  # DriftCheck's report.json (components/drift_check)
    report: Optional[str] = None  # the run's HTML page, once written
    # Each component's MLMD output artifacts by key, for the HTML page; not in the JSON.
    outputs: dict = field(default_factory=dict, repr=False)

    def state_of(self, node: str) -> Optional[str]:
        return dict(self.components).get(node)

    def to_dict(self) -> dict:
        data = asdict(replace(self, outputs={}))
        del data["outputs"]
        data["anomalies"] = [asdict(a) for a in self.anomalies]
        return data


def summarize(store: metadata_store.MetadataStore, pipeline_name: str,
              since: Optional[float] = None,
              run_id: Optional[str] = None,
              pipeline_root: Optional[str] = None) -> Optional[RunSummary]:
    """The run `run_id`, or else the latest run of the pipeline (of the workspace whose
    pipeline root is `pipeline_root`, when given); None if there is none (or none since
    `since`, in seconds since the epoch, e.g. when a run failed before its first
    component)."""
    walk = Walker(store, pipeline_name)
    run = walk.run(run_id) if run_id else walk.latest_run(pipeline_root)
    if run is None or (since is not None and run.create_time_since_epoch < since * 1000 - 1000):
        return None
    summary = RunSummary(run_id=run.name, report=string_property(run, REPORT_PROPERTY))
    outputs_by_node = summary.outputs
    for item in walk.run_executions(run):
        summary.components.append((item.node, item.state))
        summary.seconds[item.node] = max(0.0, (item.execution.last_update_time_since_epoch
                                               - item.execution.create_time_since_epoch) / 1000)
        outputs = outputs_by_node[item.node] = walk.outputs(item.execution)
        reader = _READERS.get(item.node)
        if reader and outputs:
            reader(summary, outputs)
    statistics = outputs_by_node.get("StatisticsGen", {}).get("statistics")
    schema = outputs_by_node.get("ImportSchemaGen", {}).get("schema")
    if statistics and schema:
        summary.unseen_categories = readers.unseen_categories(statistics[0], schema[0])
    return summary


def _examples(summary: RunSummary, outputs) -> None:
    examples = outputs.get("examples", [])
    if examples:
        summary.span = int_property(examples[0], "span")


def _statistics(summary: RunSummary, outputs) -> None:
    for artifact in outputs.get("statistics", []):
        summary.rows.update(readers.rows_per_split(artifact))


def _anomalies(summary: RunSummary, outputs) -> None:
    for artifact in outputs.get("anomalies", []):
        summary.anomalies.extend(readers.anomalies(artifact))


def _evaluation(summary: RunSummary, outputs) -> None:
    for artifact in outputs.get("blessing", []):
        summary.blessed = bool(int_property(artifact, "blessed"))
    for artifact in outputs.get("evaluation", []):
        summary.metrics.update(evaluation.overall_metrics(artifact.uri))
        # A blessed model missed no threshold, and reading them loads TFMA's whole package.
        if summary.blessed is not True:
            summary.failed_thresholds = evaluation.failed_thresholds(artifact.uri)


def _pushed(summary: RunSummary, outputs) -> None:
    for artifact in outputs.get("pushed_model", []):
        summary.pushed = bool(int_property(artifact, "pushed"))
        summary.push_note = string_property(artifact, "reason") or ""
        destination = string_property(artifact, "pushed_destination")
        summary.pushed_version = string_property(artifact, "pushed_version")
        if destination:
            summary.saved_model = destination
            summary.tflite_model, summary.tflite_parity = readers.tflite_files(destination)


def _drift(summary: RunSummary, outputs) -> None:
    for artifact in outputs.get("drift", []):
        summary.drift = readers.drift_report(artifact)


_READERS = {
    "CsvExampleGen": _examples,
    "StatisticsGen": _statistics,
    "ExampleValidator": _anomalies,
    "Evaluator": _evaluation,
    "VersionedPusher": _pushed,
    "DriftCheck": _drift,
}
