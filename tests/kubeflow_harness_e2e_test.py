"""The compiled Kubeflow spec, executed: every task as its own process (tests/kfp_harness.py)
with pipeline_root, data_root and serving_dir in a fresh bucket of an S3 server on
127.0.0.1, so every artifact read and write goes through TensorFlow's and Beam's remote
filesystems. A second run on a second span must compare with the first run's model.
"""

import json
from pathlib import Path

import pytest
import tensorflow as tf

from components.layout import TFLITE_FILE
from pipeline.serving.predictors import SavedModelPredictor
from tests import kfp_harness
from tests.conftest import REPO, TAXI_DATA, TAXI_SCHEMA, run_cli, serving_request, taxi_config
from tests.s3server import s3, s3_process  # noqa: F401 - fixtures

pytestmark = pytest.mark.e2e

ROWS_PER_SPAN = 2000
IMAGE = "registry.example/conveyor:test"


def upload_span(s3, number: int) -> None:
    with open(TAXI_DATA / f"span-{number}" / "data.csv", encoding="utf-8") as handle:
        lines = [next(handle) for _ in range(ROWS_PER_SPAN + 1)]
    s3.client().put_object(Bucket=s3.bucket, Key=f"data/taxi/span-{number}/data.csv",
                           Body="".join(lines).encode())


def cluster_config(path: Path, s3) -> Path:
    taxi_config(path, TAXI_DATA, train_steps=150, eval_steps=10, max_examples=400)
    text = path.read_text().replace(
        "direct_num_workers = 1\n",
        f'direct_num_workers = 1\nextra_args = ["--s3_endpoint_url={s3.endpoint}"]\n')
    path.write_text(text + f"""
[kubeflow]
pipeline_root = "{s3.uri('pipelines', 'taxi')}"
data_root = "{s3.uri('data', 'taxi')}"
serving_dir = "{s3.uri('serving', 'taxi')}"
schema = "{s3.uri('schema', 'schema.pbtxt')}"
""")
    return path


def storage(s3) -> kfp_harness.Storage:
    client = s3.client()

    def split(uri):
        bucket, _, key = uri[len("s3://"):].partition("/")
        return bucket, key

    def read(uri):
        try:
            return client.get_object(Bucket=split(uri)[0], Key=split(uri)[1])["Body"].read()
        except client.exceptions.NoSuchKey:
            return None

    return kfp_harness.Storage(read=read, remove=lambda uri: client.delete_object(
        Bucket=split(uri)[0], Key=split(uri)[1]))


def download(s3, prefix: str, target: Path) -> Path:
    for key in s3.keys(prefix):
        local = target / key[len(prefix):].lstrip("/")
        local.parent.mkdir(parents=True, exist_ok=True)
        s3.client().download_file(s3.bucket, key, str(local))
    return target


def only(result, task, key):
    (artifact,) = result.outputs[task][key]
    return artifact


def test_the_compiled_spec_runs_on_object_storage_twice(tmp_path, s3):
    s3.client().put_object(Bucket=s3.bucket, Key="schema/schema.pbtxt",
                           Body=TAXI_SCHEMA.read_bytes())
    upload_span(s3, 1)
    config = cluster_config(tmp_path / "cluster.toml", s3)
    spec_path = tmp_path / "pipeline.json"
    compiled = run_cli("compile", "kubeflow", "--config", str(config), "--output", str(spec_path),
                       "--image", IMAGE)
    assert compiled.returncode == 0, compiled.stderr
    job = json.loads(spec_path.read_text())
    harness = kfp_harness.Harness(job, storage(s3), s3.env(), cwd=str(REPO))

    first = harness.run()
    blessing = only(first, "Evaluator", "blessing")
    assert blessing.metadata.get("blessed") == 1
    pushed = only(first, "VersionedPusher", "pushed_model")
    assert pushed.metadata.get("pushed") == 1
    destination = pushed.metadata["pushed_destination"]
    assert destination.startswith(s3.uri("serving", "taxi") + "/")
    version_prefix = destination[len(f"s3://{s3.bucket}/"):]
    keys = s3.keys(version_prefix + "/")
    assert f"{version_prefix}/saved_model.pb" in keys
    assert f"{version_prefix}/tflite/{TFLITE_FILE}" in keys
    assert not list((tmp_path).glob("s3:*")), "a component wrote a bucket URI as a local path"

    local = download(s3, version_prefix, tmp_path / "served")
    scores = SavedModelPredictor(local).predict([serving_request()])
    assert scores.shape == (1, 1) and 0.0 <= float(scores[0, 0]) <= 1.0

    upload_span(s3, 2)
    second = harness.run()
    first_model = only(first, "Trainer", "model")
    assert only(second, "CsvExampleGen", "examples").metadata["custom:span"] == 2
    (baseline,) = second.inputs["Evaluator"]["baseline_model"]
    assert baseline.uri == first_model.uri
    assert baseline.uri != only(second, "Trainer", "model").uri
