"""EvalSample's work: keep at most `max_examples` records of the eval split.

TFMA's work is Python per example and per slice, so the Evaluator's time grows with the
eval split while its verdict does not need it to: on a sample of tens of thousands of
rows the standard error of AUC is already far below a typical `max_decrease`
(docs/BENCHMARKS.md). The sample is the records with the smallest hashes of their bytes:
uniform over the split, the same records on every run of the same artifact, exactly
`max_examples` of them.
"""

from __future__ import annotations

import math
import os
from typing import Any, Dict, List

import numpy as np
import tensorflow as tf
from tfx import types
from tfx.components.util import examples_utils
from tfx.dsl.components.base import base_executor
from tfx.dsl.io import fileio
from tfx.types import artifact_utils
from tfx.utils import io_utils

EXAMPLES_KEY = "examples"
SAMPLE_KEY = "sample"
SPLIT_KEY = "split"
MAX_EXAMPLES_KEY = "max_examples"
EXAMPLES_PER_FILE = 10_000  # several files, so Beam's workers can read the sample in parallel
_BATCH = 65_536
_HASH_BUCKETS = 2**62


class Executor(base_executor.BaseExecutor):

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
        source = artifact_utils.get_single_instance(input_dict[EXAMPLES_KEY])
        sample = artifact_utils.get_single_instance(output_dict[SAMPLE_KEY])
        split = exec_properties[SPLIT_KEY]
        sample.split_names = artifact_utils.encode_split_names([split])
        for read, write in ((examples_utils.get_payload_format, examples_utils.set_payload_format),
                            (examples_utils.get_file_format, examples_utils.set_file_format)):
            write(sample, read(source))
        files = sorted(fileio.glob(io_utils.all_files_pattern(
            artifact_utils.get_split_uri([source], split))))
        target = artifact_utils.get_split_uri([sample], split)
        fileio.makedirs(target)
        limit = int(exec_properties[MAX_EXAMPLES_KEY])
        hashes = _record_hashes(files)
        sample.set_int_custom_property("source_examples", len(hashes))
        if limit <= 0 or len(hashes) <= limit:
            for path in files:  # the whole split: the same files
                fileio.copy(path, os.path.join(target, os.path.basename(path)))
            sample.set_int_custom_property("examples", len(hashes))
            return
        keep = np.zeros(len(hashes), dtype=bool)
        keep[np.argsort(hashes, kind="stable")[:limit]] = True
        _write(files, keep, target, math.ceil(limit / EXAMPLES_PER_FILE))
        sample.set_int_custom_property("examples", limit)


def _records(files: List[str]) -> tf.data.Dataset:
    return tf.data.TFRecordDataset(files, compression_type="GZIP").batch(_BATCH)


def _record_hashes(files: List[str]) -> np.ndarray:
    if not files:
        return np.zeros(0, dtype=np.int64)
    hashed = _records(files).map(lambda batch: tf.strings.to_hash_bucket_fast(batch, _HASH_BUCKETS))
    return np.concatenate([batch for batch in hashed.as_numpy_iterator()] or [np.zeros(0, np.int64)])


def _write(files: List[str], keep: np.ndarray, target: str, shards: int) -> None:
    writers = [tf.io.TFRecordWriter(os.path.join(target, f"data_tfrecord-{i:05d}.gz"),
                                    options="GZIP") for i in range(shards)]
    kept = 0
    try:
        start = 0
        for batch in _records(files).as_numpy_iterator():
            for record in batch[keep[start:start + len(batch)]]:
                writers[kept % shards].write(record)
                kept += 1
            start += len(batch)
    finally:
        for writer in writers:
            writer.close()
