"""StatisticsGen's executor: TFDV's statistics of a small span without a Beam pipeline.

TFX's executor runs TFDV's GenerateStatistics on Beam. On a span of a few megabytes
most of that is the pipeline's start-up and Beam's per-batch Python, several times the
counting itself. For such a span this executor decodes the split's tf.Examples with
tfx_bsl's decoder, as TFXIO does, and computes the statistics with TFDV's own parts
(components/statistics/in_process.py: the same sketches, histograms, moments and exact
top values), then writes the artifact as TFX's executor writes it: the same
FeatureStats.pb per split and the same properties.

It takes that path only where TFX's executor would compute TFDV's defaults: no stats
options, no schema input, no sample rates, no excluded splits, no sharded output, a
tf.Example payload whose every feature is flat (at most one value per example) of INT,
FLOAT or BYTES, and at most IN_PROCESS_MAX_BYTES of example files. Anything else, or
a span it finds it cannot cover, goes to TFX's executor unchanged.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional

import pyarrow as pa
import pyarrow.compute as pc
from absl import logging
from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2
from tfx import types
from tfx.components.statistics_gen import executor as tfx_executor
from tfx.components.util import examples_utils
from tfx.dsl.io import fileio
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_component_specs as specs
from tfx.utils import json_utils, stats_utils

from components.statistics import in_process, sources

# Compressed tf.Example files of all splits together: past this, one process reading
# every split is no faster than Beam's workers (docs/BENCHMARKS.md).
IN_PROCESS_MAX_BYTES = 32 << 20
_FLAT_TYPES = (pa.int64(), pa.float32(), pa.binary(), pa.large_binary())


class Executor(tfx_executor.Executor):

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]],
           exec_properties: Dict[str, Any]) -> None:
        examples = artifact_utils.get_single_instance(input_dict[specs.EXAMPLES_KEY])
        files = _in_process_files(input_dict, examples, exec_properties)
        computed = _split_statistics(files) if files else None
        if computed is None:
            super().Do(input_dict, output_dict, exec_properties)
            return
        output = artifact_utils.get_single_instance(output_dict[specs.STATISTICS_KEY])
        _describe(output, examples, list(computed))
        for split, stats in computed.items():
            folder = artifact_utils.get_split_uri([output], split)
            fileio.makedirs(folder)
            with fileio.open(os.path.join(folder, tfx_executor.DEFAULT_FILE_NAME), "wb") as out:
                out.write(stats.SerializeToString())
        logging.info("StatisticsGen: %s computed in process", ", ".join(computed))


def _in_process_files(input_dict, examples: types.Artifact,
                      exec_properties: Dict[str, Any]) -> Optional[Dict[str, List[str]]]:
    """{split: files} when the defaults apply and the span is small, else None."""
    if input_dict.get(specs.SCHEMA_KEY) or any(
            json_utils.loads(exec_properties.get(key) or "null") for key in (
                specs.STATS_OPTIONS_JSON_KEY, specs.EXCLUDE_SPLITS_KEY,
                specs.SAMPLE_RATE_BY_SPLIT_KEY)) or exec_properties.get(
                specs.SHARDED_STATS_OUTPUT_KEY):
        return None
    if examples_utils.get_payload_format(examples) != example_gen_pb2.FORMAT_TF_EXAMPLE or \
            examples.has_custom_property(examples_utils.CUSTOM_SPLIT_PATTERN_PROPERTY_NAME):
        return None
    files = {split: sorted(fileio.glob(os.path.join(
                 artifact_utils.get_split_uri([examples], split), "*")))
             for split in artifact_utils.decode_split_names(examples.split_names)}
    if not files or not all(files.values()):
        return None
    size = sources.total_bytes([path for paths in files.values() for path in paths])
    return files if size <= IN_PROCESS_MAX_BYTES else None


def _split_statistics(files: Dict[str, List[str]]
                      ) -> Optional[Dict[str, statistics_pb2.DatasetFeatureStatisticsList]]:
    computed = {}
    for split, paths in files.items():
        batches = [batch for path in paths for batch in sources.example_batches(path)]
        names = sorted({name for batch in batches for name in batch.schema.names})
        if not names or not _flat(batches):
            return None
        # No schema, as TFX's executor has none here: every INT feature is numeric.
        computed[split] = in_process.statistics(batches, schema_pb2.Schema(), names)
    return computed


def _flat(batches: List[pa.RecordBatch]) -> bool:
    """Every feature a list of INT, FLOAT or BYTES values, at most one per example."""
    for batch in batches:
        for column in batch.columns:
            if not (pa.types.is_list(column.type) or pa.types.is_large_list(column.type)) \
                    or column.type.value_type not in _FLAT_TYPES:
                return False
            if len(column) and pc.max(pc.list_value_length(column)).as_py() \
                    not in (None, 0, 1):
                return False
    return True


def _describe(output: types.Artifact, examples: types.Artifact, splits: List[str]) -> None:
    """The properties TFX's executor sets on the statistics artifact."""
    output.split_names = artifact_utils.encode_split_names(splits)
    output.span = examples.span
    try:
        link = stats_utils.generate_stats_dashboard_link(output)
    except Exception:  # noqa: BLE001  (TFX's executor logs and goes on, as here)
        logging.exception("Failed to generate stats dashboard link")
        link = ""
    output.set_string_custom_property(tfx_executor.STATS_DASHBOARD_LINK, link)
    output.set_json_value_custom_property(
        tfx_executor.SAMPLE_RATE_BY_SPLIT_PROPERTY_NAME,
        json_utils.dumps({split: 1.0 for split in splits}))
