"""The request log: sampling, the schema's types, rotation by size and time, threads, a
SIGKILLed writer, and personal columns written exactly as ingestion writes them."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import tensorflow as tf
from tensorflow_metadata.proto.v0 import schema_pb2

from components import drift
from components.csv_ingest import reader
from pipeline import config as config_lib
from pipeline.drift import samples as drift_samples
from pipeline.errors import InputError
from pipeline.serving import log_files
from pipeline.serving.request_encoding import RowEncoder
from pipeline.serving.request_log import RequestLog, open_request_log
from tests.conftest import REPO, TAXI_CONFIG, TAXI_DATA, TAXI_SCHEMA, taxi_config
from tests.personal_data_e2e_test import PERSONAL_CONFIG, PERSONAL_SCHEMA

TYPES = {"fare": schema_pb2.FLOAT, "trip_seconds": schema_pb2.INT,
         "company": schema_pb2.BYTES, "trip_start_hour": schema_pb2.INT}


class FakeClock:
    def __init__(self, now: float = 1_790_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def new_log(directory: Path, rate: float = 1.0, rotate_bytes: int = 1 << 30,
            rotate_seconds: float = 3600.0, **options) -> RequestLog:
    return RequestLog(str(directory), RowEncoder(TYPES, reader.PersonalData()), rate,
                      rotate_bytes, rotate_seconds, **options)


def read_examples(paths) -> list[dict]:
    """Each record of `paths` (in order) as {feature: first value}."""
    rows = []
    for path in paths:
        for record in tf.data.TFRecordDataset(str(path), compression_type="GZIP"):
            example = tf.train.Example.FromString(record.numpy())
            rows.append({name: _first(feature) for name, feature
                         in example.features.feature.items()})
    return rows


def _first(feature: tf.train.Feature):
    kind = feature.WhichOneof("kind")
    values = getattr(feature, kind).value
    return (kind, values[0] if values else None)


def closed(directory: Path) -> list[str]:
    return [f.path for f in log_files.list_closed(str(directory))]


def test_no_log_when_the_sample_rate_is_zero(tmp_path):
    path = taxi_config(tmp_path / "taxi.toml", TAXI_DATA)
    path.write_text(path.read_text().replace("log_sample_rate = 0.1", "log_sample_rate = 0"))
    assert open_request_log(config_lib.load(path).with_overrides(workspace=tmp_path)) is None


def test_rows_are_written_with_the_schemas_types_as_ingestion_writes_them(tmp_path):
    log = new_log(tmp_path / "logs")
    log.record([{"fare": 12.5, "trip_seconds": 600, "company": "Flash Cab",
                 "trip_start_hour": None, "unknown_column": "x"},
                {"fare": 7, "trip_seconds": 60.0, "company": 5}])
    log.close()
    rows = read_examples(closed(tmp_path / "logs"))
    # A missing value is the feature with no values, as ingestion writes an empty field.
    assert rows[0] == {"fare": ("float_list", 12.5), "trip_seconds": ("int64_list", 600),
                       "company": ("bytes_list", b"Flash Cab"), "trip_start_hour": ("int64_list", None)}
    assert rows[1] == {"fare": ("float_list", 7.0), "trip_seconds": ("int64_list", 60),
                       "company": ("bytes_list", b"5"), "trip_start_hour": ("int64_list", None)}
    csv = tmp_path / "span.csv"
    csv.write_text("fare,trip_seconds,company,trip_start_hour\n12.5,600,Flash Cab,\n")
    ingested = [e for _, e in reader.read_split_examples(str(csv), csv.read_bytes(), TYPES,
                                                         reader.PersonalData(), [1])]
    logged = [r.numpy() for r in tf.data.TFRecordDataset(closed(tmp_path / "logs")[0],
                                                          compression_type="GZIP")]
    assert tf.train.Example.FromString(logged[0]) == tf.train.Example.FromString(ingested[0])


def test_sampling_keeps_about_the_rate_and_is_repeatable_with_a_seed(tmp_path):
    rows = [{"trip_seconds": i} for i in range(4000)]
    kept = []
    for run, seed in enumerate((7, 7, 8)):
        log = new_log(tmp_path / str(run), rate=0.25, seed=seed)
        for start in range(0, len(rows), 10):
            log.record(rows[start:start + 10])
        log.close()
        kept.append([r["trip_seconds"][1] for r in read_examples(closed(tmp_path / str(run)))])
    assert 850 <= len(kept[0]) <= 1150  # 1000 expected; 4.5 standard deviations either side
    assert kept[0] == kept[1] and kept[0] != kept[2]
    assert kept[0] == sorted(set(kept[0]))


def test_files_rotate_by_size_and_keep_every_row_in_order(tmp_path):
    log = new_log(tmp_path, rotate_bytes=2000)
    for i in range(300):
        log.record([{"trip_seconds": i, "company": "Taxi Affiliation Services"}])
    log.close()
    files = closed(tmp_path)
    assert len(files) > 5
    assert files == log.closed_files
    assert [r["trip_seconds"][1] for r in read_examples(files)] == list(range(300))
    records = [[len(r.numpy()) for r in tf.data.TFRecordDataset(f, compression_type="GZIP")]
               for f in files]
    longest = max(max(sizes) for sizes in records)
    assert all(2000 <= sum(sizes) < 2000 + longest for sizes in records[:-1])
    assert not [n for n in os.listdir(tmp_path) if n.startswith(log_files.OPEN_PREFIX)]


def test_files_rotate_by_time_even_without_new_requests(tmp_path):
    clock = FakeClock()
    log = new_log(tmp_path, rotate_seconds=300, clock=clock)
    log.record([{"trip_seconds": 1}])
    log.flush()
    assert closed(tmp_path) == []
    (open_name,) = os.listdir(tmp_path)
    assert open_name.startswith(log_files.OPEN_PREFIX + log_files.PREFIX)
    assert open_name.endswith(log_files.OPEN_SUFFIX)
    clock.now += 120
    log.record([{"trip_seconds": 2}])
    log.flush()
    assert closed(tmp_path) == []
    clock.now += 181  # the file's first record is now 301 s old
    log.flush()
    (first,) = log_files.list_closed(str(tmp_path))
    assert (first.first, first.last) == (clock.now - 301, clock.now - 181)
    log.record([{"trip_seconds": 3}])
    log.close()
    files = closed(tmp_path)
    assert [[r["trip_seconds"][1] for r in read_examples([f])] for f in files] == [[1, 2], [3]]
    assert sorted(os.listdir(tmp_path)) == [os.path.basename(f) for f in files]


def test_skews_folder_reader_skips_the_open_file(tmp_path):
    log = new_log(tmp_path, rotate_bytes=500)
    for i in range(40):
        log.record([{"trip_seconds": i, "company": "Flash Cab"}])
    log.flush()
    names = os.listdir(tmp_path)
    assert any(n.startswith(log_files.OPEN_PREFIX) for n in names)
    pattern, data_format = drift.data_files(str(tmp_path))
    assert data_format == drift.TFRECORD
    assert sorted(tf.io.gfile.glob(pattern)) == closed(tmp_path)
    log.close()


def test_records_from_many_threads_are_each_written_once(tmp_path):
    log = new_log(tmp_path, rotate_bytes=5000)

    def send(thread: int) -> None:
        for i in range(250):
            log.record([{"trip_seconds": thread * 1000 + i}])

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.close()
    written = [r["trip_seconds"][1] for r in read_examples(closed(tmp_path))]
    assert sorted(written) == sorted(t * 1000 + i for t in range(8) for i in range(250))
    assert log.dropped == 0


WRITER = """
import json, sys
from components.csv_ingest import reader
from pipeline.serving.request_encoding import RowEncoder
from pipeline.serving.request_log import RequestLog
from tensorflow_metadata.proto.v0 import schema_pb2

log = RequestLog(sys.argv[1], RowEncoder({"trip_seconds": schema_pb2.INT}, reader.PersonalData()),
                 1.0, 1500, 3600.0)
for i in range(1000):
    log.record([{"trip_seconds": i}])
log.flush()
print(json.dumps({"written": 1000, "closed": len(log.closed_files)}), flush=True)
sys.stdin.read()  # until the test kills this process
"""


def test_a_killed_writer_loses_at_most_its_open_file(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], cwd=REPO,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        state = json.loads(child.stdout.readline())
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=60)
    files = closed(tmp_path)
    assert len(files) == state["closed"] > 10
    written = [r["trip_seconds"][1] for r in read_examples(files)]
    per_file = len(written) / len(files)
    assert written == list(range(len(written)))
    assert state["written"] - len(written) <= per_file + 1
    (open_file,) = [n for n in os.listdir(tmp_path) if n.startswith(log_files.OPEN_PREFIX)]
    assert drift.data_files(str(tmp_path))[0].endswith("*" + log_files.SUFFIX)


def personal_config(tmp_path: Path) -> config_lib.Config:
    schema = tmp_path / "schema.pbtxt"
    schema.write_text(TAXI_SCHEMA.read_text() + PERSONAL_SCHEMA)
    path = taxi_config(tmp_path / "taxi.toml", TAXI_DATA)
    text = path.read_text().replace(str(TAXI_SCHEMA), str(schema))
    path.write_text(text.replace("[training]", PERSONAL_CONFIG + "\n[training]")
                    .replace("log_sample_rate = 0.1", "log_sample_rate = 1.0"))
    return config_lib.load(path).with_overrides(workspace=tmp_path / "workspace")


def test_personal_columns_are_logged_exactly_as_ingestion_writes_them(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVEYOR_TEST_PSEUDONYM_KEY", "log-test-key-31")
    config = personal_config(tmp_path)
    log = open_request_log(config)
    log.record([{"fare": 9.25, "rider_email": "ann@example.org", "customer_id": "C-0042"}])
    log.close()
    files = closed(config.request_log_dir)
    (row,) = read_examples(files)
    csv = tmp_path / "span.csv"
    csv.write_text("fare,rider_email,customer_id\n9.25,ann@example.org,C-0042\n")
    personal = reader.personal_data({"drop": ["customer_id"], "pseudonymize": ["rider_email"],
                                     "key_env": "CONVEYOR_TEST_PSEUDONYM_KEY"})
    ((_, ingested),) = reader.read_split_examples(
        str(csv), csv.read_bytes(), reader.column_types(tf_schema(config)), personal, [1])
    expected = tf.train.Example.FromString(ingested).features.feature["rider_email"]
    assert row["rider_email"] == ("bytes_list", expected.bytes_list.value[0])
    assert row["rider_email"][1] != b"ann@example.org" and "customer_id" not in row
    content = gzip.decompress(Path(files[0]).read_bytes())
    assert b"ann@example.org" not in content and b"C-0042" not in content


def test_a_missing_pseudonymization_key_fails_before_the_first_request(tmp_path, monkeypatch):
    monkeypatch.delenv("CONVEYOR_TEST_PSEUDONYM_KEY", raising=False)
    with pytest.raises(InputError, match="CONVEYOR_TEST_PSEUDONYM_KEY"):
        open_request_log(personal_config(tmp_path))


def tf_schema(config: config_lib.Config) -> schema_pb2.Schema:
    from google.protobuf import text_format

    return text_format.Parse(config.schema.read_text(), schema_pb2.Schema())


def test_tfdv_reads_a_log_folder_as_skew_does_while_a_file_is_open(tmp_path):
    import tensorflow_data_validation as tfdv

    config = config_lib.load(TAXI_CONFIG).with_overrides(workspace=tmp_path)
    rows = drift_samples.request_rows()[:600]
    log = RequestLog(str(config.request_log_dir), RowEncoder.from_config(config), 1.0,
                     20_000, 3600.0)
    for start in range(0, len(rows), 4):
        log.record(rows[start:start + 4])
    log.flush()
    logged = sum(1 for _ in read_examples(closed(config.request_log_dir)))
    assert 0 < logged < len(rows)  # the rest is in the open file
    kinds = config.drift_features()
    stats = drift.compute_statistics(*drift.data_files(str(config.request_log_dir)),
                                     tfdv.load_schema_text(str(TAXI_SCHEMA)), kinds)
    assert stats.datasets[0].num_examples == logged
    seconds = next(f for f in stats.datasets[0].features if f.path.step[0] == "trip_seconds")
    expected = [r["trip_seconds"] for r in rows[:logged] if "trip_seconds" in r]
    assert seconds.num_stats.common_stats.num_non_missing == len(expected)
    assert seconds.num_stats.max == max(expected)
    log.close()
