"""ExampleGen executor: each file of the span is read by `reader` in a Beam DoFn.

TFX's FileBasedExampleGen machinery (span resolution, hash-bucket splits, output
format, the Examples artifact) is kept; only the CSV-to-tf.Example step is ours.
"""

from __future__ import annotations

import csv
import os
from typing import Any, Dict, Iterable

import apache_beam as beam
from tfx.components.example_gen.base_example_gen_executor import BaseExampleGenExecutor
from tfx.dsl.io import fileio
from tfx.types import standard_component_specs
from tfx.utils import io_utils, json_utils

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
    def __init__(self, types: Dict[str, int], personal: Dict[str, Any]):
        self._types = types
        self._personal_settings = personal

    def setup(self):
        self._personal = personal_data(self._personal_settings)

    def process(self, path: str) -> Iterable[bytes]:
        with fileio.open(path, "rb") as handle:
            data = handle.read()
        yield from reader.read_examples(path, data, self._types, self._personal)


@beam.ptransform_fn
@beam.typehints.with_input_types(beam.Pipeline)
@beam.typehints.with_output_types(bytes)
def _CsvToExample(pipeline: beam.Pipeline, exec_properties: Dict[str, Any],
                  split_pattern: str) -> beam.pvalue.PCollection:
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
    return (pipeline
            | "Files" >> beam.Create(files)
            | "Reshuffle" >> beam.Reshuffle()
            | "ReadCsv" >> beam.ParDo(_ReadCsvFile(types, personal)))


def _header(path: str) -> list:
    with fileio.open(path, "rb") as handle:
        line = handle.readline()
    return next(csv.reader([line.decode("utf-8-sig", errors="replace")]), [])


class Executor(BaseExampleGenExecutor):

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
        return _CsvToExample
