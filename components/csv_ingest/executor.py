"""ExampleGen executor: each file of the span is read by `reader` in a Beam DoFn.

TFX's FileBasedExampleGen machinery (span resolution, the Examples artifact and its
gzipped-TFRecord layout) is kept. Ours are the CSV-to-tf.Example step and, for the usual
hash-bucket output splits, which split a row goes to (see reader.split_ids) and how it
is written: the DoFn that reads a file writes that file's rows of each split to one
TFRecord file per split, instead of handing every row to Beam as an element, whose
per-element work in Python would be most of ingestion's time.
"""

from __future__ import annotations

import itertools
import os
from typing import Any, Dict, List, Tuple

import apache_beam as beam
import tensorflow as tf
from tfx.components.example_gen import write_split
from tfx.components.example_gen.base_example_gen_executor import BaseExampleGenExecutor
from tfx.components.util import examples_utils
from tfx.dsl.io import fileio
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils, json_utils, proto_utils

from components.csv_ingest import header, reader

SCHEMA_FILE_KEY = "schema_file"
PERSONAL_KEY = "personal"
CSV_FORMAT_KEY = "csv"


class _CsvFileDoFn(beam.DoFn):
    """Reads whole span files with the column types and personal-data rules."""

    def __init__(self, types: Dict[str, int], personal: Dict[str, Any],
                 csv_format: header.CsvFormat):
        self._types = types
        self._personal_settings = personal
        self._format = csv_format

    def setup(self):
        self._personal = reader.personal_data(self._personal_settings)

    @staticmethod
    def _content(path: str) -> bytes:
        with fileio.open(path, "rb") as handle:
            return handle.read()


class _WriteCsvFileSplits(_CsvFileDoFn):
    """Writes file number `index`'s rows to `<split dir>/data_tfrecord-<index>.gz`, one
    file per split. A retried bundle rewrites the same files; a failed execution's output
    folder is never published by TFX.

    A file the reader rejects is not raised inside Beam: its message goes to
    `<errors_dir>/<index>.txt` and the executor raises it once the pipeline is done.
    Raised in a DoFn, the error would reach the user wrapped in a worker's stack trace
    (which Beam's threaded mode also prints to stderr) instead of as its one line."""

    def __init__(self, types: Dict[str, int], personal: Dict[str, Any],
                 csv_format: header.CsvFormat, split_dirs: Dict[str, str], bounds: List[int],
                 errors_dir: str):
        super().__init__(types, personal, csv_format)
        self._names = list(split_dirs)
        self._dirs = split_dirs
        self._bounds = bounds
        self._errors_dir = errors_dir

    def process(self, numbered: Tuple[int, str]) -> None:
        index, path = numbered
        data = self._content(path)
        writers = [tf.io.TFRecordWriter(
            os.path.join(self._dirs[name], f"data_tfrecord-{index:05d}.gz"), options="GZIP")
            for name in self._names]
        try:
            for split, example in reader.read_split_examples(
                    path, data, self._types, self._personal, self._bounds, self._format):
                writers[split].write(example)
        except reader.CsvError as error:
            with fileio.open(os.path.join(self._errors_dir, f"{index:05d}.txt"), "w") as out:
                out.write(str(error))
        finally:
            for writer in writers:
                writer.close()


def _raise_first_error(errors_dir: str) -> None:
    """The rejected file that comes first in the span's order, as one CsvError."""
    reports = sorted(fileio.glob(os.path.join(errors_dir, "*.txt")))
    if reports:
        with fileio.open(reports[0], "r") as report:
            raise reader.CsvError(report.read())


def _inputs(exec_properties: Dict[str, Any], split_pattern: str
            ) -> Tuple[List[str], Dict[str, int], Dict[str, Any], header.CsvFormat]:
    """The span's files (checked to share one header), column types and personal-data
    settings; fails before Beam starts on anything wrong with them."""
    pattern = os.path.join(exec_properties[standard_component_specs.INPUT_BASE_KEY],
                           split_pattern)
    files = sorted(fileio.glob(pattern))
    if not files:
        raise reader.CsvError(f"{pattern}: no files match")
    config = json_utils.loads(exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY)
                              or "{}")
    csv_format = header.CsvFormat.from_dict(config.get(CSV_FORMAT_KEY, {}))
    headers = {path: _header(path, csv_format.delimiter) for path in files}
    first = headers[files[0]]
    for path, names in headers.items():
        if names != first:
            raise reader.CsvError(f"{path}: header differs from {files[0]} in the same span")
    schema = io_utils.SchemaReader().read(config[SCHEMA_FILE_KEY])
    types = reader.column_types(schema)
    personal = config.get(PERSONAL_KEY, {})
    reader.personal_data(personal)  # the key must be there
    return files, types, personal, csv_format


def _header(path: str, delimiter: str) -> list:
    with fileio.open(path, "rb") as handle:
        return header.read_header(path, handle, delimiter)


class Executor(BaseExampleGenExecutor):
    """Writes the hash-bucket output splits of one input split (what the pipeline factory
    configures) itself, from the DoFn that reads each file."""

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
        raise NotImplementedError("Do writes the splits itself; TFX's element path is unused")

    def Do(self, input_dict: Dict[str, List[Any]], output_dict: Dict[str, List[Any]],
           exec_properties: Dict[str, Any]) -> None:
        input_config = proto_utils.json_to_proto(
            exec_properties[standard_component_specs.INPUT_CONFIG_KEY], example_gen_pb2.Input())
        output_config = proto_utils.json_to_proto(
            exec_properties[standard_component_specs.OUTPUT_CONFIG_KEY], example_gen_pb2.Output())
        split_config = output_config.split_config
        if (len(input_config.splits) != 1 or not split_config.splits
                or split_config.partition_feature_name):
            raise ValueError("Conveyor's CSV ingestion takes one input split and hash-bucket "
                             "output splits (as pipeline/factory.py configures it)")
        self._log_startup(input_dict, output_dict, exec_properties)
        files, types, personal, csv_format = _inputs(exec_properties,
                                                     input_config.splits[0].pattern)
        artifacts = output_dict[standard_component_specs.EXAMPLES_KEY]
        artifact = artifact_utils.get_single_instance(artifacts)
        names = [split.name for split in split_config.splits]
        artifact.split_names = artifact_utils.encode_split_names(names)
        split_dirs = {name: artifact_utils.get_split_uri(artifacts, name) for name in names}
        errors_dir = os.path.join(self._get_tmp_dir(), "rejected_files")
        if fileio.exists(errors_dir):  # left by an earlier attempt of this execution
            fileio.rmtree(errors_dir)
        for folder in [*split_dirs.values(), errors_dir]:
            fileio.makedirs(folder)
        bounds = list(itertools.accumulate(split.hash_buckets for split in split_config.splits))
        with self._make_beam_pipeline() as pipeline:
            _ = (pipeline
                 | "Files" >> beam.Create(list(enumerate(files)))
                 | "Reshuffle" >> beam.Reshuffle()
                 | "WriteSplits" >> beam.ParDo(
                     _WriteCsvFileSplits(types, personal, csv_format, split_dirs, bounds,
                                         errors_dir)))
        _raise_first_error(errors_dir)
        # The artifact's properties exactly as TFX's own Do sets them.
        payload_format = exec_properties.get(standard_component_specs.OUTPUT_DATA_FORMAT_KEY)
        if payload_format:
            examples_utils.set_payload_format(artifact, payload_format)
        file_format = exec_properties.get(standard_component_specs.OUTPUT_FILE_FORMAT_KEY)
        if file_format:
            examples_utils.set_file_format(artifact, write_split.to_file_format_str(file_format))
