"""TFDV statistics of a glob of CSV/TFRecord files: in this process up to a size limit,
with Beam above it, the same figures either way.

TFDV's own helpers (tfdv.generate_statistics_from_csv and _from_tfrecord) run a Beam
pipeline, and importing TFDV loads TensorFlow and Beam: on the bundled spans that is
seconds of start-up for half a second of counting. Small inputs are counted here
(in_process.py) without either; larger ones, or schemas that module does not cover,
run TFDV's GenerateStatistics on Beam over batches from the same reader (sources.py),
so both paths honour the config's [csv] delimiter and null_values.
"""

from __future__ import annotations

import os
import struct
import tempfile
from typing import Optional, Sequence

from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from components.csv_ingest.header import CsvFormat
from components.errors import InputError, first_line
from components.statistics import in_process, sources
from components.statistics.sources import InputDataError

# Inputs up to this size are counted in process: the bundled spans are 0.6 MB; 64 MiB of
# CSV is about half a million rows, a few seconds here, and Beam's start-up costs more.
IN_PROCESS_MAX_BYTES = 64 << 20


def compute(pattern: str, data_format: str, schema: schema_pb2.Schema, names: Sequence[str],
            options: in_process.Options, csv_format: CsvFormat = CsvFormat(),
            pipeline_options=None, output_path: Optional[str] = None,
            in_process_max_bytes: int = IN_PROCESS_MAX_BYTES,
            ) -> statistics_pb2.DatasetFeatureStatisticsList:
    """Statistics of the `names` features of the files `pattern` matches; written to
    `output_path` (a one-record TFRecord file, as TFDV writes it) when given."""
    files = sources.matching_files(pattern)
    try:
        if in_process.supported(schema, names) and \
                sources.total_bytes(files) <= in_process_max_bytes:
            batches = (batch for path in files for batch in sources.record_batches(
                path, data_format, schema, names, csv_format))
            stats = in_process.statistics(batches, schema, list(names), options)
            if output_path:
                write_statistics(output_path, stats)
        else:
            stats = _with_beam(files, data_format, schema, names, options, csv_format,
                               pipeline_options, output_path)
    except InputError:
        raise
    except (ValueError, RuntimeError, OSError) as error:
        raise InputDataError(f"{pattern}: cannot read as {data_format}: "
                             f"{first_line(error)}") from error
    if not stats.datasets or stats.datasets[0].num_examples == 0:
        raise InputDataError(f"{pattern}: no rows")
    return stats


def stats_options(schema: schema_pb2.Schema, names: Sequence[str],
                  options: in_process.Options):
    """TFDV's StatsOptions with the same settings the in-process path uses."""
    import tensorflow_data_validation as tfdv

    return tfdv.StatsOptions(
        schema=schema, infer_type_from_schema=True, feature_allowlist=list(names),
        num_histogram_buckets=options.num_histogram_buckets,
        num_quantiles_histogram_buckets=options.num_quantiles_histogram_buckets,
        num_values_histogram_buckets=options.num_values_histogram_buckets,
        num_top_values=options.num_top_values,
        num_rank_histogram_buckets=options.num_rank_histogram_buckets,
        epsilon=options.epsilon)


def _with_beam(files: Sequence[str], data_format: str, schema: schema_pb2.Schema,
               names: Sequence[str], options: in_process.Options, csv_format: CsvFormat,
               pipeline_options, output_path: Optional[str]
               ) -> statistics_pb2.DatasetFeatureStatisticsList:
    import apache_beam as beam
    import tensorflow_data_validation as tfdv

    path = output_path or os.path.join(tempfile.mkdtemp(), "stats.tfrecord")
    with beam.Pipeline(options=pipeline_options) as pipeline:
        _ = (pipeline
             | "Files" >> beam.Create(list(files))
             | "Read" >> beam.FlatMap(sources.record_batches, data_format, schema, list(names),
                                      csv_format)
             | "Statistics" >> tfdv.GenerateStatistics(stats_options(schema, names, options))
             | "Write" >> tfdv.WriteStatisticsToTFRecord(path))
    return tfdv.load_statistics(path)


def write_statistics(path: str, stats: statistics_pb2.DatasetFeatureStatisticsList) -> None:
    """A one-record TFRecord file of the statistics: what tfdv.load_statistics reads."""
    record = stats.SerializeToString()
    length = struct.pack("<Q", len(record))
    data = (length + struct.pack("<I", sources.masked_crc(length)) + record
            + struct.pack("<I", sources.masked_crc(record)))
    if "://" in path:
        from tensorflow.io import gfile

        gfile.makedirs(os.path.dirname(path))
        with gfile.GFile(path, "wb") as handle:
            handle.write(data)
    else:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
