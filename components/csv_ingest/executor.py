"""ExampleGen executor: each file of the span is read by `reader` in a Beam DoFn.

TFX's FileBasedExampleGen machinery (span resolution, output format, the Examples
artifact) is kept. Ours are the CSV-to-tf.Example step and, for the usual hash-bucket
output splits, which split a row goes to (see reader.split_ids).
"""

from __future__ import annotations

import csv
import itertools
import os
from typing import Any, Dict, Iterable, List, Optional, Tuple

import apache_beam as beam
from tfx.components.example_gen.base_example_gen_executor import BaseExampleGenExecutor
from tfx.dsl.io import fileio
from tfx.proto import example_gen_pb2
from tfx.types import standard_component_specs
from tfx.utils import io_utils, json_utils, proto_utils

from components.csv_ingest import reader

SCHEMA_FILE_KEY = "schema_file"
PERSONAL_KEY = "personal"


def personal_data(settings: Dict[str, Any]) -> reader.PersonalData:
    """The key is read from the environment variable the config names; it is never stored."""
    pseudonymize = tuple(settings.get("pseudonymize", ()))
    key = None
    if pseudonymize:
        variable = settings["key_env"]
        value = os.environ.get(variable)
        if not value:
            raise reader.CsvError(f"personal columns {', '.join(pseudonymize)} need a "
                                  f"pseudonymization key in the environment variable {variable}")
        key = value.encode("utf-8")
    return reader.PersonalData(drop=tuple(settings.get("drop", ())), pseudonymize=pseudonymize,
                               key=key)


class _ReadCsvFile(beam.DoFn):
    """Serialized examples of each file; with `splits` (names and cumulative hash
    buckets), each one tagged with the split it belongs to."""

    def __init__(self, types: Dict[str, int], personal: Dict[str, Any],
                 splits: Optional[Tuple[List[str], List[int]]] = None):
        self._types = types
        self._personal_settings = personal
        self._splits = splits

    def setup(self):
        self._personal = personal_data(self._personal_settings)

    def process(self, path: str) -> Iterable[Any]:
        with fileio.open(path, "rb") as handle:
            data = handle.read()
        if self._splits is None:
            yield from reader.read_examples(path, data, self._types, self._personal)
            return
        names, bounds = self._splits
        for index, example in reader.read_split_examples(path, data, self._types,
                                                         self._personal, bounds):
            yield beam.pvalue.TaggedOutput(names[index], example)


@beam.ptransform_fn
@beam.typehints.with_input_types(beam.Pipeline)
@beam.typehints.with_output_types(bytes)
def _CsvToExample(pipeline: beam.Pipeline, exec_properties: Dict[str, Any],
                  split_pattern: str, splits: Optional[Tuple[List[str], List[int]]] = None):
    pattern = os.path.join(exec_properties[standard_component_specs.INPUT_BASE_KEY],
                           split_pattern)
    files = sorted(fileio.glob(pattern))
    if not files:
        raise reader.CsvError(f"{pattern}: no files match")
    headers = {path: _header(path) for path in files}
    first = headers[files[0]]
    for path, header in headers.items():
        if header != first:
            raise reader.CsvError(f"{path}: header differs from {files[0]} in the same span")
    config = json_utils.loads(exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY)
                              or "{}")
    schema = io_utils.SchemaReader().read(config[SCHEMA_FILE_KEY])
    types = reader.column_types(schema)
    personal = config.get(PERSONAL_KEY, {})
    personal_data(personal)  # fail before Beam starts if the key is missing
    read = beam.ParDo(_ReadCsvFile(types, personal, splits))
    if splits is not None:
        read = read.with_outputs(*splits[0])
    return (pipeline
            | "Files" >> beam.Create(files)
            | "Reshuffle" >> beam.Reshuffle()
            | "ReadCsv" >> read)


def _header(path: str) -> list:
    with fileio.open(path, "rb") as handle:
        line = handle.readline()
    return next(csv.reader([line.decode("utf-8-sig", errors="replace")]), [])


class Executor(BaseExampleGenExecutor):

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
        return _CsvToExample

    def GenerateExamplesByBeam(self, pipeline: beam.Pipeline,
                               exec_properties: Dict[str, Any]) -> Dict[str, Any]:
        """Hash-bucket output splits from the rows' values; anything else as TFX does it."""
        input_config = proto_utils.json_to_proto(
            exec_properties[standard_component_specs.INPUT_CONFIG_KEY], example_gen_pb2.Input())
        output_config = proto_utils.json_to_proto(
            exec_properties[standard_component_specs.OUTPUT_CONFIG_KEY], example_gen_pb2.Output())
        split_config = output_config.split_config
        if (len(input_config.splits) != 1 or not split_config.splits
                or split_config.partition_feature_name):
            return super().GenerateExamplesByBeam(pipeline, exec_properties)
        names = [split.name for split in split_config.splits]
        bounds = list(itertools.accumulate(split.hash_buckets for split in split_config.splits))
        tagged = (pipeline | "InputToRecord" >> _CsvToExample(  # pylint: disable=no-value-for-parameter
            exec_properties, input_config.splits[0].pattern, (names, bounds)))
        return {name: tagged[name] for name in names}
