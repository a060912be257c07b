"""DriftCheck's work: statistics of span N and N-1 from the data root, then the comparison.

`read_report` and `over_threshold` are what the ValidationGate and the run summary use.
"""

import json
import os
from typing import Any, Dict, List

import tensorflow_data_validation as tfdv
from apache_beam.options.pipeline_options import PipelineOptions
from tfx import types
from tfx.dsl.components.base import base_beam_executor
from tfx.dsl.io import fileio
from tfx.types import artifact_utils
from tfx.types.artifact import Artifact
from tfx.utils import io_utils

from components import anomalies as anomalies_lib
from components import layout
from components.artifact_properties import int_property
from components import drift
from components.csv_ingest.header import CsvFormat

DATA_ROOT_KEY = "data_root"
FEATURES_KEY = "features"
THRESHOLDS_KEY = "thresholds"
CSV_KEY = "csv"  # JSON of the config's [csv] table (components/csv_ingest/header.CsvFormat)
EXAMPLES_KEY = "examples"
SCHEMA_KEY = "schema"
DRIFT_KEY = "drift"


class Executor(base_beam_executor.BaseBeamExecutor):

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
        examples = artifact_utils.get_single_instance(input_dict[EXAMPLES_KEY])
        schema = tfdv.load_schema_text(io_utils.get_only_uri_in_dir(
            artifact_utils.get_single_uri(input_dict[SCHEMA_KEY])))
        output = artifact_utils.get_single_instance(output_dict[DRIFT_KEY])
        report = check_span(
            data_root=exec_properties[DATA_ROOT_KEY], span=_span_of(examples), schema=schema,
            kinds=json.loads(exec_properties[FEATURES_KEY]),
            thresholds=drift.Thresholds.from_dict(json.loads(exec_properties[THRESHOLDS_KEY])),
            output_dir=output.uri, pipeline_options=PipelineOptions(self._beam_pipeline_args),
            csv_format=CsvFormat.from_dict(json.loads(exec_properties.get(CSV_KEY) or "{}")))
        io_utils.write_string_file(os.path.join(output.uri, layout.DRIFT_REPORT_FILE),
                                   json.dumps(report, indent=2))
        output.set_int_custom_property("computed", int(report["computed"]))
        output.set_int_custom_property("features_over_threshold",
                                       report.get("features_over_threshold", 0))


def check_span(data_root: str, span: int, schema, kinds: dict, thresholds: drift.Thresholds,
               output_dir: str, pipeline_options=None,
               csv_format: CsvFormat = CsvFormat()) -> dict:
    """The report of span `span` against span `span - 1` (CSV files read with the config's
    [csv] format, as CsvExampleGen reads them); `computed` false when there is no
    previous span (the first run), with the reason."""
    previous = drift.span_folder(data_root, span - 1)
    if previous is None:
        return {"format": drift.FORMAT, "comparison": drift.DRIFT, "computed": False,
                "reason": f"no span {span - 1} in {data_root}", "baseline": f"span {span - 1}",
                "current": f"span {span}", "features": []}
    current = drift.span_folder(data_root, span)
    statistics = []
    for name, folder in ((layout.DRIFT_BASELINE_STATS, previous),
                         (layout.DRIFT_CURRENT_STATS, current)):
        pattern, data_format = drift.data_files(folder)
        path = os.path.join(output_dir, name, layout.STATS_FILE)
        fileio.makedirs(os.path.dirname(path))
        statistics.append(drift.compute_statistics(pattern, data_format, schema, kinds,
                                                   pipeline_options=pipeline_options,
                                                   output_path=path, csv_format=csv_format))
    report = drift.compare(drift.DRIFT, *statistics, schema, kinds, thresholds,
                           baseline_name=f"span {span - 1}", current_name=f"span {span}")
    return {**report.to_dict(), "computed": True}


def read_report(artifact: Artifact) -> dict:
    return json.loads(io_utils.read_string_file(os.path.join(artifact.uri, layout.DRIFT_REPORT_FILE)))


def over_threshold(report: dict) -> List[anomalies_lib.Anomaly]:
    """Drift findings in the form of validation anomalies, for the gate to stop on."""
    found = []
    for item in report.get("features", []):
        if item["verdict"] == drift.OK:
            continue
        value = "no values on one side" if item["value"] is None else f"{item['value']:.4f}"
        found.append(anomalies_lib.Anomaly(
            "drift", item["feature"], f"DRIFT_{item['metric'].upper()}_HIGH",
            f"{item['metric']} {report['current']} vs {report['baseline']} = {value} > "
            f"threshold {item['threshold']}"))
    return found


def _span_of(examples: Artifact) -> int:
    span = int_property(examples, "span")
    if span is None:
        raise ValueError(f"examples artifact {examples.uri} records no span")
    return span
