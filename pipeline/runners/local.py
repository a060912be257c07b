"""Runs the pipeline in this process with TFX's LocalDagRunner, Beam's DirectRunner
and ML Metadata in SQLite under the workspace."""

from __future__ import annotations

import datetime
import os
from typing import Optional

from tfx.orchestration import pipeline as pipeline_lib
from tfx.orchestration.local.local_dag_runner import LocalDagRunner

from models import autograph_rules
from pipeline import factory
from pipeline.runners import beam_options, cached_outputs
from pipeline.metadata import health as metadata_health
from pipeline.metadata import store as metadata_store
from pipeline.config import Config, ConfigError
from pipeline.dataset.spans import check_columns, select_span
from pipeline.source_tree import ROOT


def locations(config: Config) -> factory.Locations:
    return factory.Locations(data_root=str(config.data_root), schema_file=str(config.schema),
                             pipeline_root=str(config.pipeline_root),
                             serving_dir=str(config.serving_dir))


def preflight(config: Config) -> int:
    """Checks made before any component starts; returns the span the run will ingest."""
    if not config.schema.is_file():
        raise ConfigError(f"{config.source}: [pipeline.schema] schema file {config.schema} "
                          f"does not exist")
    privacy = config.privacy
    if privacy.pseudonymize and not os.environ.get(privacy.key_env):
        raise ConfigError(f"{config.source}: [privacy] personal columns "
                          f"{', '.join(privacy.pseudonymize)} are pseudonymized with a key from "
                          f"the environment variable {privacy.key_env}, which is not set")
    span = select_span(config.data_root, config.span)
    check_columns(span, config.features, config.csv.delimiter)
    return span.number


def build(config: Config) -> pipeline_lib.Pipeline:
    """The factory's pipeline with local folders, the workspace's metadata and the
    config's Beam runner (which `run --beam-runner` overrides)."""
    scale = scale_args(config)
    pipeline = factory.create_pipeline(
        config, locations(config),
        config.beam.pipeline_args() + staging_args(config) + scale,
        metadata_store.connection_config(config))
    by_id = component_args(config, scale)
    for component in pipeline.components:
        if component.id in by_id:  # added after the pipeline's args, so these win
            component.with_beam_pipeline_args(by_id[component.id])
    return pipeline


def component_args(config: Config, scale: list[str]) -> dict[str, list[str]]:
    """DirectRunner modes for the two Beam components whose work does not follow the
    span-size rule of `scale_args` (the measurements are in docs/BENCHMARKS.md):

    - Ingestion runs on one thread per core of this process, at any span size: its work
      per file (Arrow's CSV parsing, the tf.Example encoder, the gzipped TFRecord writes)
      is C++ outside Python's lock, so threads beat worker processes, each of which
      first imports TensorFlow. A rejected file is reported by the executor after the
      Beam run (components/csv_ingest), so the threads' stack traces never reach the user.
    - The Evaluator stays in memory when `[evaluation] max_examples` bounds its input to
      at most EVALUATOR_IN_MEMORY_MAX rows, however large the span: that many rows take
      less time in memory than the worker processes take to start.

    `scale` is what `scale_args` returned for this config (it lists the span's files).
    """
    if config.beam.runner != beam_options.DIRECT:
        return {}
    args = {factory.INGESTION_ID: ["--direct_running_mode=multi_threading",
                                   f"--direct_num_workers={os.cpu_count() or 1}"]}
    if scale and 0 < config.evaluation.max_examples <= EVALUATOR_IN_MEMORY_MAX:
        args[factory.EVALUATOR_ID] = ["--direct_running_mode=in_memory",
                                      "--direct_num_workers=1"]
    return args


EVALUATOR_IN_MEMORY_MAX = 100_000


def scale_args(config: Config) -> list[str]:
    """The DirectRunner's multi_processing mode, one worker per core, for a large span.

    Up to tens of MB, `in_memory` with one worker wins, because every multi_processing
    worker first imports TensorFlow, TFT and TFMA; on a span of hundreds of MB the
    per-row work of statistics, analysis and evaluation dominates, and one worker per
    core is what pays (docs/BENCHMARKS.md). These args come after the config's own, so
    they override its mode and worker count.
    """
    beam = config.beam
    if beam.runner != beam_options.DIRECT or not beam.parallel_above_mb:
        return []
    size = sum(path.stat().st_size for path in select_span(config.data_root, config.span).files)
    if size <= beam.parallel_above_mb * 2 ** 20:
        return []
    return ["--direct_running_mode=multi_processing",
            f"--direct_num_workers={os.cpu_count() or 1}"]


def staging_args(config: Config) -> list[str]:
    """Names Conveyor's own package as the Beam workers' dependency for a DirectRunner.

    Without a dependency flag, TFX builds an sdist of the whole tfx package before every
    Beam component (about a second each) so that remote workers could install it. The
    DirectRunner's workers are this interpreter (or subprocesses of it) and install
    nothing, so for it the flag only stops that build. Remote runners keep their own
    settings (a worker image), and the Kubeflow spec never names a local file.
    """
    setup_file = ROOT / "setup.py"
    if config.beam.runner != beam_options.DIRECT or not setup_file.is_file():
        return []
    return [f"--setup_file={setup_file}"]


def run(config: Config, until: Optional[str] = None) -> datetime.datetime:
    """Runs the pipeline (up to and including the node `until`, if given); returns the
    time it started (to find the run in MLMD). Call with the workspace lock held."""
    preflight(config)
    config.workspace.mkdir(parents=True, exist_ok=True)
    metadata_health.recover_interrupted(metadata_store.open_store(config), config.name,
                                        str(config.pipeline_root))
    # Every component runs in this process: the Trainer's tracing and the Evaluator's.
    autograph_rules.skip_tf_keras()
    cached_outputs.install()  # a cached execution's outputs under their own keys
    pipeline = build(config)
    started = datetime.datetime.now()
    options = pipeline_lib.RunOptions(to_nodes=[until]) if until else None
    LocalDagRunner().run(pipeline, run_options=options)
    return started
