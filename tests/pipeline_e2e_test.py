"""The whole pipeline through `python -m pipeline run`, on a small slice of the taxi data.

Assertions read ML Metadata and the files the run left, not its log text: every
component executed, the pushed version serves raw tf.Examples, the int8 TFLite model
agrees with it, a re-run is cached, and an anomalous span stops before training.
"""

from __future__ import annotations

import glob
import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from components.versioned_pusher.versions import versions
from pipeline import config as config_lib
from pipeline.metadata import store as metadata_store
from pipeline.metadata.walker import Walker
from tests.conftest import run_cli, serving_request, slice_spans, taxi_config

pytestmark = pytest.mark.e2e

ROWS_PER_SPAN = 2000
EVAL_SAMPLE = 400  # [evaluation] max_examples: below the span's ~660 eval rows
ALL_NODES = {"CsvExampleGen", "StatisticsGen", "SchemaGen", "ImportSchemaGen",
             "ExampleValidator", "DriftCheck", "ValidationGate", "Transform", "Trainer",
             "latest_blessed_model_resolver", "EvalSample", "Evaluator", "VersionedPusher"}
# A resolver queries the store on every run; everything else can be reused.
CACHEABLE = ALL_NODES - {"latest_blessed_model_resolver"}


class Runs:
    """The workspace shared by the tests of this module, and the CLI results in it."""

    def __init__(self, root: Path):
        self.data = slice_spans(root / "data", ROWS_PER_SPAN)
        self.config_path = taxi_config(root / "taxi.toml", self.data, train_steps=150,
                                       eval_steps=10, max_examples=EVAL_SAMPLE)
        self.workspace = root / "workspace"
        self.config = config_lib.load(self.config_path).with_overrides(workspace=self.workspace)
        self.first = self.run()
        self.first_states = self.states()

    def run(self, *extra: str):
        return run_cli("run", "--config", str(self.config_path), "--workspace",
                       str(self.workspace), *extra)

    def states(self) -> dict[str, str]:
        store = metadata_store.open_store(self.config)
        walk = Walker(store, self.config.name)
        return {e.node: e.state for e in walk.run_executions(walk.latest_run())}

    def serving_versions(self) -> list[int]:
        return versions(str(self.config.serving_dir))

    def latest_version_dir(self) -> Path:
        return self.config.serving_dir / str(self.serving_versions()[-1])


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Runs:
    return Runs(tmp_path_factory.mktemp("e2e"))


def eval_examples(runs: Runs) -> list[bytes]:
    """The eval split CsvExampleGen wrote in the first run (serialized tf.Examples)."""
    pattern = str(runs.config.pipeline_root / "CsvExampleGen" / "examples" / "*" / "Split-eval"
                  / "*.gz")
    records = []
    for path in sorted(glob.glob(pattern))[:1]:
        records += [r.numpy() for r in tf.data.TFRecordDataset(path, compression_type="GZIP")]
    assert records, f"no eval examples under {pattern}"
    return records


def labels_of(serialized: list[bytes], label: str) -> np.ndarray:
    values = []
    for record in serialized:
        example = tf.train.Example.FromString(record)
        values.append(example.features.feature[label].int64_list.value[0])
    return np.array(values)


def test_first_run_succeeds_and_prints_the_summary(runs):
    assert runs.first.returncode == 0, runs.first.stderr[-3000:]
    out = runs.first.stdout
    assert "(span 3)" in out
    assert "Blessing: BLESSED" in out
    assert "Pushed SavedModel: " in out and "model.tflite" in out
    assert "Anomalies: none" in out


def test_every_component_executed_in_ml_metadata(runs):
    assert runs.first_states == {node: "executed" for node in ALL_NODES}


def test_rows_per_split_cover_the_ingested_span(runs):
    store = metadata_store.open_store(runs.config)
    from pipeline.summary.summary import summarize

    summary = summarize(store, runs.config.name)
    assert sum(summary.rows.values()) == ROWS_PER_SPAN
    assert set(summary.rows) == {"train", "eval"}
    assert summary.metrics["auc"] >= 0.7
    # The Evaluator scored a sample of exactly max_examples of the eval split.
    assert summary.rows["eval"] > EVAL_SAMPLE
    assert summary.metrics["example_count"] == EVAL_SAMPLE


def test_metrics_are_sliced_by_the_configured_feature(runs):
    """The Evaluator cuts the features down to the slicing columns before splitting batches
    (components/eval_extractors.py); the hour slices must still be there and add up."""
    import tensorflow_model_analysis as tfma

    evaluations = glob.glob(str(runs.config.pipeline_root / "Evaluator" / "evaluation" / "*"))
    assert len(evaluations) == 1
    slices = dict(tfma.load_eval_result(evaluations[0]).slicing_metrics)
    hours = {key: metrics for key, metrics in slices.items()
             if key and key[0][0] == "trip_start_hour"}
    assert len(hours) >= 20
    counts = [m[""][""]["example_count"]["doubleValue"] for m in hours.values()]
    assert sum(counts) == slices[()][""][""]["example_count"]["doubleValue"] == EVAL_SAMPLE
    assert all("auc" in m[""][""] for m in hours.values())


def test_pushed_version_holds_saved_model_and_tflite(runs):
    version = runs.latest_version_dir()
    assert (version / "saved_model.pb").is_file()
    assert (version / "tflite" / "model.tflite").is_file()
    assert (version / "tflite" / "model.json").is_file()
    assert not [p for p in runs.config.serving_dir.iterdir() if p.name.startswith(".")]


def test_saved_model_answers_a_serialized_example_without_the_label(runs):
    from pipeline.serving.predictors import SavedModelPredictor

    outputs = SavedModelPredictor(runs.latest_version_dir()).predict([serving_request()])
    assert outputs.shape == (1, 1)
    assert 0.0 <= float(outputs[0, 0]) <= 1.0


def test_tflite_accuracy_is_within_two_points_of_the_saved_model(runs):
    from pipeline.serving.predictors import SavedModelPredictor, TFLitePredictor

    serialized = eval_examples(runs)
    labels = labels_of(serialized, "big_tipper")
    saved = SavedModelPredictor(runs.latest_version_dir()).predict(serialized)
    lite = TFLitePredictor(runs.latest_version_dir()).predict(serialized)
    saved_accuracy = np.mean((saved[:, 0] > 0.5) == labels)
    lite_accuracy = np.mean((lite[:, 0] > 0.5) == labels)
    assert saved_accuracy > 0.7
    assert abs(saved_accuracy - lite_accuracy) <= 0.02


def test_second_run_is_cached_end_to_end_and_pushes_nothing_new(runs):
    """The baseline leaves out the candidate, so the model the first run blessed does not
    become the Evaluator's new baseline: nothing is evaluated or pushed again."""
    before = runs.serving_versions()
    second = runs.run("--rerun")  # through TFX: its cache, not the no-change answer
    assert second.returncode == 0, second.stderr[-3000:]
    states = runs.states()
    assert {node: states[node] for node in CACHEABLE} == {node: "cached" for node in CACHEABLE}
    assert runs.serving_versions() == before
    pushed = [line for line in runs.first.stdout.splitlines() if line.startswith("Pushed SavedModel")]
    assert pushed
    # The summary names the model still serving, without claiming to have pushed it.
    serving = pushed[0].split(": ", 1)[1]
    assert f"(cached run, nothing new pushed): {serving}" in second.stdout
    assert "Pushed SavedModel" not in second.stdout


def test_an_unchanged_run_answers_from_metadata_and_a_change_runs_again(runs):
    """Nothing changed since the cached run: `run` prints that run's summary and adds no
    run to ML Metadata. A config edit that no component reads ([serving]) is still a change:
    the pipeline runs again, through TFX's cache."""
    store = metadata_store.open_store(runs.config)
    before = Walker(store, runs.config.name).runs()
    again = runs.run()
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"Nothing changed since run {before[-1].name}" in again.stderr
    assert Walker(store, runs.config.name).runs() == before
    summary = again.stdout.splitlines()
    assert summary[0] == f"Run {before[-1].name} (span 3)"
    assert [line for line in summary if "(cached run, nothing new pushed)" in line] == [
        line for line in runs.run("--rerun").stdout.splitlines()
        if "(cached run, nothing new pushed)" in line]
    text = runs.config_path.read_text(encoding="utf-8")
    assert "poll_seconds = 2\n" in text
    runs.config_path.write_text(text.replace("poll_seconds = 2\n", "poll_seconds = 3\n"),
                                encoding="utf-8")
    try:
        changed = runs.run()
    finally:
        runs.config_path.write_text(text, encoding="utf-8")
    assert changed.returncode == 0, changed.stderr[-3000:]
    assert "Nothing changed" not in changed.stderr
    assert len(Walker(store, runs.config.name).runs()) == len(before) + 2
    states = runs.states()
    assert {node: states[node] for node in CACHEABLE} == {node: "cached" for node in CACHEABLE}


def add_span(runs: Runs, number: int, column: str, bad_value: str, every: int = 50) -> Path:
    """A copy of span 3 with `bad_value` in `column` on every `every`-th row."""
    span = runs.data / f"span-{number}"
    span.mkdir()
    lines = (runs.data / "span-3" / "data.csv").read_text().splitlines()
    header = lines[0].split(",")
    index = header.index(column)
    rows = []
    for number_, line in enumerate(lines[1:]):
        cells = line.split(",")
        if number_ % every == 0 and len(cells) == len(header):
            cells[index] = bad_value
        rows.append(",".join(cells))
    (span / "data.csv").write_text("\n".join([lines[0], *rows]) + "\n")
    return span


def serving_state(runs: Runs):
    return runs.serving_versions(), sorted(p.relative_to(runs.config.serving_dir)
                                           for p in runs.config.serving_dir.rglob("*"))


def test_a_string_in_a_numeric_column_stops_ingestion_naming_file_line_and_column(runs):
    before = serving_state(runs)
    span = add_span(runs, 4, "fare", "twelve dollars")
    try:
        result = runs.run()
    finally:
        shutil.rmtree(span)
    assert result.returncode == 2, result.stderr[-3000:]
    error = result.stderr.strip().splitlines()[-1]
    assert "run failed in CsvExampleGen" in error
    assert "span-4/data.csv: line 2: column 'fare': 'twelve dollars' is not a number" in error
    assert "Traceback" not in result.stderr
    assert set(runs.states()) == {"CsvExampleGen"}  # nothing ran after ingestion failed
    assert serving_state(runs) == before


def test_an_anomalous_span_stops_before_training_and_pushes_nothing(runs):
    before = serving_state(runs)
    span = add_span(runs, 4, "trip_miles", "99999")  # far outside the schema's domain
    try:
        result = runs.run()
    finally:
        shutil.rmtree(span)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "] trip_miles: " in result.stdout and "Anomalies (" in result.stdout
    assert "nothing was trained or pushed" in result.stderr
    states = runs.states()
    assert states["ValidationGate"] == "failed"
    assert not {"Transform", "Trainer", "Evaluator", "VersionedPusher"} & set(states)
    assert serving_state(runs) == before
