"""The gate's work: read the anomalies of the gated splits; copy the schema or stop."""

import json
import os
from typing import Any, Dict, List

from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils
from tfx.utils import io_utils

from components import anomalies as anomalies_lib
from components.drift_check import executor as drift_check

SPLITS_KEY = "splits"
SCHEMA_KEY = "schema"
ANOMALIES_KEY = "anomalies"
DRIFT_KEY = "drift"
VALIDATED_SCHEMA_KEY = "validated_schema"


class AnomaliesFound(RuntimeError):
    """Validation found anomalies in a gated split; the message lists each one."""

    def __init__(self, found: List[anomalies_lib.Anomaly]):
        self.anomalies = found
        lines = "\n".join(f"  {a}" for a in found)
        super().__init__(f"data validation found {len(found)} anomal"
                         f"{'y' if len(found) == 1 else 'ies'}; training stopped:\n{lines}")


class Executor(base_executor.BaseExecutor):

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
        found = anomalies_lib.read(artifact_utils.get_single_instance(input_dict[ANOMALIES_KEY]),
                                   json.loads(exec_properties[SPLITS_KEY]))
        for report in input_dict.get(DRIFT_KEY, []):
            found += drift_check.over_threshold(drift_check.read_report(report))
        if found:
            raise AnomaliesFound(found)
        copy_schema(artifact_utils.get_single_uri(input_dict[SCHEMA_KEY]),
                    artifact_utils.get_single_uri(output_dict[VALIDATED_SCHEMA_KEY]))


def copy_schema(source_dir: str, destination_dir: str) -> None:
    source = io_utils.get_only_uri_in_dir(source_dir)
    io_utils.copy_file(source, os.path.join(destination_dir, os.path.basename(source)),
                       overwrite=True)
