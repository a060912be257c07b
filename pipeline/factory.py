"""The one pipeline factory: the component graph every runner (local, Kubeflow) executes.

Runners decide only where things live (pipeline root, serving folder, metadata
connection) and how Beam runs; the graph itself is built here and nowhere else.
Transform and Trainer load their code by module path rather than `module_file`, which
spares TFX's per-component wheel build; a fingerprint of the component sources goes in
their `custom_config` instead, so editing that code still invalidates the cache and is
recorded in ML Metadata.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import Optional

import tensorflow_model_analysis as tfma
from ml_metadata.proto import metadata_store_pb2
# TFX's modules, not `tfx.v1`: importing tfx.v1 also loads the Vertex AI client (its
# extensions), three seconds of every run and of every fully cached re-run.
from tfx.components import (Evaluator, ExampleValidator, FileBasedExampleGen,
                            SchemaGen, Trainer, Transform)
from tfx.components.schema_gen.import_schema_gen.component import ImportSchemaGen
from tfx.dsl.components.common.resolver import Resolver
from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import (
    LatestBlessedModelStrategy)
from tfx.orchestration.pipeline import Pipeline
from tfx.proto import example_gen_pb2, range_config_pb2, trainer_pb2
from tfx.types import Channel, standard_artifacts
from tfx.dsl.components.base import executor_spec

from components import layout
from components.csv_ingest import executor as csv_ingest
from models import eval_metrics
from components.drift_check.component import DriftCheck
from components.eval_sample.component import EvalSample
from components.statistics_gen.component import StatisticsGen
from components.validation_gate.component import ValidationGate
from components.versioned_pusher.component import VersionedPusher
from components import baseline_resolver as baseline_lib
from pipeline.config import Config, MetricThreshold
from pipeline.dataset.spans import SPAN_PATTERN
from pipeline.source_tree import ROOT, code_digest

# The code that runs inside components: a change to it must invalidate their cache.
COMPONENT_SIDE_CODE = (ROOT / "components", ROOT / "models")
PREPROCESSING_FN = "models.preprocessing.preprocessing_fn"
RUN_FN = "models.trainer.run_fn"
EVAL_EXTRACTORS_MODULE = "models.eval_extractors"  # its custom_extractors: see there
GATED_SPLITS = ("train", "eval")
INGESTION_ID = "CsvExampleGen"
EVALUATOR_ID = "Evaluator"


@dataclass(frozen=True)
class Locations:
    """Where a runner puts the pipeline's outputs: local folders or cluster URIs."""

    data_root: str
    schema_file: str
    pipeline_root: str
    serving_dir: str


def create_pipeline(config: Config, locations: Locations, beam_args: list[str],
                    metadata_connection: Optional[metadata_store_pb2.ConnectionConfig] = None,
                    builtin_resolvers_only: bool = False) -> Pipeline:
    """`builtin_resolvers_only`: for orchestrators that compile only TFX's own resolver
    strategies (Kubeflow's v2 compiler); the baseline may then be the candidate itself."""
    code = components_fingerprint()
    validation = _validation(config, locations, code)
    example_gen, gate = validation[0], validation[-1]
    training = _training(config, example_gen, gate, code)
    evaluation = _evaluation(config, locations, example_gen, training[-1],
                             builtin_resolvers_only)
    return Pipeline(
        pipeline_name=config.name,
        pipeline_root=locations.pipeline_root,
        components=[*validation, *training, *evaluation],
        enable_cache=True,
        metadata_connection_config=metadata_connection,
        beam_pipeline_args=beam_args)


def _validation(config: Config, locations: Locations, code: str) -> list:
    """Ingestion, statistics, schemas, validation and drift, up to the ValidationGate
    (first and last in the list)."""
    # TFX's file-based ExampleGen (spans, splits, the Examples artifact) with Conveyor's CSV
    # reader: schema-typed Arrow parsing, errors naming file/row/column, personal columns
    # dropped or pseudonymized before anything is written.
    example_gen = FileBasedExampleGen(
        input_base=locations.data_root,
        input_config=example_gen_pb2.Input(splits=[
            example_gen_pb2.Input.Split(name="single_split", pattern=SPAN_PATTERN)]),
        range_config=_span_range(config.span),
        custom_config={"schema_file": locations.schema_file,
                       "personal": personal_settings(config),
                       "csv": dataclasses.asdict(config.csv), "code": code},
        custom_executor_spec=executor_spec.BeamExecutorSpec(csv_ingest.Executor),
    ).with_id(INGESTION_ID)
    statistics_gen = StatisticsGen(examples=example_gen.outputs["examples"])
    # The inferred schema is a first look for whoever curates schema/; runs use the curated one.
    inferred_schema = SchemaGen(
        statistics=statistics_gen.outputs["statistics"], infer_feature_shape=False)
    curated_schema = ImportSchemaGen(schema_file=locations.schema_file)
    example_validator = ExampleValidator(
        statistics=statistics_gen.outputs["statistics"],
        schema=curated_schema.outputs["schema"])
    drift_check = DriftCheck(examples=example_gen.outputs["examples"],
                             schema=curated_schema.outputs["schema"],
                             data_root=locations.data_root, features=config.drift_features(),
                             thresholds=config.drift.thresholds_dict(),
                             csv=dataclasses.asdict(config.csv))
    gate = ValidationGate(schema=curated_schema.outputs["schema"],
                          anomalies=example_validator.outputs["anomalies"],
                          splits=GATED_SPLITS,
                          drift=(drift_check.outputs["drift"] if config.drift.mode == "block"
                                 else None))
    return [example_gen, statistics_gen, inferred_schema, curated_schema, example_validator,
            drift_check, gate]


def _training(config: Config, example_gen, gate, code: str) -> list:
    """Transform and the Trainer (last in the list), behind the gate's validated schema."""
    features = config.features.to_dict()
    transform = Transform(
        examples=example_gen.outputs["examples"],
        schema=gate.outputs["validated_schema"],
        preprocessing_fn=PREPROCESSING_FN,
        # StatisticsGen already describes the raw data and nothing reads statistics of the
        # transformed data; computing them doubled Transform's time.
        disable_statistics=True,
        # The cache lets a later run analyze only new spans when it reads several; each run
        # here analyzes one span, so writing it was time spent for nothing.
        disable_analyzer_cache=True,
        # No transformed copy of the span: the Trainer applies the transform graph in its
        # input pipeline to the batches it reads (fixed by train_steps, whatever the span's
        # size), instead of Transform writing every row of every split a second time.
        materialize=False,
        custom_config={"features": features, "code": code})
    trainer = Trainer(
        run_fn=RUN_FN,
        examples=example_gen.outputs["examples"],
        transform_graph=transform.outputs["transform_graph"],
        train_args=trainer_pb2.TrainArgs(num_steps=config.training.train_steps),
        eval_args=trainer_pb2.EvalArgs(num_steps=config.training.eval_steps),
        custom_config={"features": features,
                       "training": dataclasses.asdict(config.training), "code": code})
    return [transform, trainer]


def _evaluation(config: Config, locations: Locations, example_gen, trainer,
                builtin_resolvers_only: bool) -> list:
    """The baseline resolver, EvalSample, the Evaluator and the VersionedPusher."""
    baseline = _baseline_resolver(None if builtin_resolvers_only else trainer.outputs["model"])
    eval_sample = EvalSample(examples=example_gen.outputs["examples"],
                             max_examples=config.evaluation.max_examples)
    evaluator = Evaluator(
        examples=eval_sample.outputs["sample"],
        model=trainer.outputs["model"],
        baseline_model=baseline.outputs["model"],
        eval_config=eval_config(config),
        module_path=EVAL_EXTRACTORS_MODULE).with_id(EVALUATOR_ID)
    pusher = VersionedPusher(model=trainer.outputs["model"],
                             model_blessing=evaluator.outputs["blessing"],
                             serving_dir=locations.serving_dir)
    return [baseline, eval_sample, evaluator, pusher]


def _baseline_resolver(candidate: Optional[Channel]) -> Resolver:
    """The latest blessed model other than `candidate` (see pipeline/baseline.py); with no
    candidate channel, TFX's LatestBlessedModelStrategy."""
    channels = dict(
        model=Channel(type=standard_artifacts.Model),
        model_blessing=Channel(type=standard_artifacts.ModelBlessing))
    if candidate is None:
        strategy = LatestBlessedModelStrategy
    else:
        strategy, channels[baseline_lib.CANDIDATE] = (
            baseline_lib.LatestBlessedOtherModelStrategy, candidate)
    return Resolver(strategy_class=strategy, **channels).with_id(
        "latest_blessed_model_resolver")


def eval_config(config: Config) -> tfma.EvalConfig:
    label = config.features.label
    return tfma.EvalConfig(
        # The raw label column holds the class ids the model predicts (the transform only
        # casts it), so TFMA reads it from the examples instead of running the transform
        # graph a second time per batch and splitting every transformed feature per row.
        model_specs=[tfma.ModelSpec(signature_name=layout.SERVING_SIGNATURE, label_key=label.name)],
        slicing_specs=[tfma.SlicingSpec()] + [tfma.SlicingSpec(feature_keys=[name])
                                              for name in config.evaluation.slices],
        metrics_specs=[tfma.MetricsSpec(metrics=[
            tfma.MetricConfig(class_name="ExampleCount"),
            *(_metric(m) for m in config.evaluation.metrics)])])


def _metric(metric: MetricThreshold) -> tfma.MetricConfig:
    threshold = tfma.MetricThreshold()
    if metric.lower_bound is not None:
        threshold.value_threshold.lower_bound.value = metric.lower_bound
    if metric.upper_bound is not None:
        threshold.value_threshold.upper_bound.value = metric.upper_bound
    if metric.max_decrease is not None:
        # Ignored by TFMA on the first run, when no blessed baseline exists yet.
        higher_is_better = metric.higher_is_better
        threshold.change_threshold.direction = (tfma.MetricDirection.HIGHER_IS_BETTER
                                                if higher_is_better
                                                else tfma.MetricDirection.LOWER_IS_BETTER)
        threshold.change_threshold.absolute.value = (-metric.max_decrease if higher_is_better
                                                     else metric.max_decrease)
    # Gate on the overall slice only: per-slice figures are reported, but a slice of a few
    # dozen rows is too noisy to block a model on.
    per_slice = [tfma.PerSliceMetricThreshold(slicing_specs=[tfma.SlicingSpec()],
                                              threshold=threshold)]
    if metric.name in eval_metrics.HISTOGRAM_BACKED:
        # Same metric and key, counted from the histogram AUC builds (one pass, not two).
        return tfma.MetricConfig(class_name=eval_metrics.HISTOGRAM_BACKED[metric.name],
                                 module=eval_metrics.__name__, per_slice_thresholds=per_slice)
    return tfma.MetricConfig(class_name=metric.name, per_slice_thresholds=per_slice)


def personal_settings(config: Config) -> dict:
    """What ingestion needs to know of personal columns. The key itself stays in the
    environment; only a fingerprint of it is recorded, so a new key re-ingests."""
    privacy = config.privacy
    settings = {"drop": list(privacy.drop), "pseudonymize": list(privacy.pseudonymize),
                "key_env": privacy.key_env}
    key = os.environ.get(privacy.key_env)
    if privacy.pseudonymize and key:
        settings["key_id"] = hmac.new(key.encode(), b"conveyor-key-id",
                                      hashlib.sha256).hexdigest()[:12]
    return settings


def _span_range(span: Optional[int]) -> Optional[range_config_pb2.RangeConfig]:
    """A fixed span when one is asked for; otherwise CsvExampleGen takes the latest."""
    if span is None:
        return None
    return range_config_pb2.RangeConfig(static_range=range_config_pb2.StaticRange(
        start_span_number=span, end_span_number=span))


def components_fingerprint() -> str:
    """A digest of the code that runs inside components (the custom components, the
    resolver strategy, the module files), for caching and lineage."""
    return code_digest(COMPONENT_SIDE_CODE)[:16]
