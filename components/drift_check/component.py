"""DriftCheck: compares span N with span N-1 of the data root, feature by feature.

TFX's ExampleValidator compares statistics with the schema only. This component reads
the span CsvExampleGen ingested from its Examples artifact, computes TFDV statistics of
span N and span N-1 from the data root the same way the `drift` command does, and
writes a DriftReport. The previous span is read from the data root rather than
resolved from ML Metadata, so drift is measured whenever span N-1 exists, whether or
not an earlier run ingested it, on every orchestrator (local or Kubeflow) alike.
With `drift: block` the ValidationGate takes the report as an input and stops on it.
"""

import json
from typing import Mapping, Optional

from tfx import types
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.types import channel_utils, standard_artifacts
from tfx.types.component_spec import ChannelParameter, ExecutionParameter

from components.drift_check import executor


class DriftReport(types.Artifact):
    """report.json (per-feature results, components/drift.py Report.to_dict) and the
    statistics of both spans (baseline/ and current/ FeatureStats.pb)."""

    # KFP v2 needs custom type names of the form "namespace.TypeName" (Kubeflow compile),
    # and TFX's container launcher imports that name as a class path, so it must be one:
    # `components` resolves DriftReport lazily (components/__init__.py).
    TYPE_NAME = "components.DriftReport"


class DriftCheckSpec(types.ComponentSpec):
    PARAMETERS = {
        executor.DATA_ROOT_KEY: ExecutionParameter(type=str),
        executor.FEATURES_KEY: ExecutionParameter(type=str),  # JSON {feature: numeric|categorical}
        executor.THRESHOLDS_KEY: ExecutionParameter(type=str),  # JSON Thresholds.to_dict()
        executor.CSV_KEY: ExecutionParameter(type=str, optional=True),  # JSON [csv] table
    }
    INPUTS = {
        executor.EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples),
        executor.SCHEMA_KEY: ChannelParameter(type=standard_artifacts.Schema),
    }
    OUTPUTS = {
        executor.DRIFT_KEY: ChannelParameter(type=DriftReport),
    }


class DriftCheck(base_beam_component.BaseBeamComponent):
    SPEC_CLASS = DriftCheckSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

    def __init__(self, examples: types.BaseChannel, schema: types.BaseChannel, data_root: str,
                 features: Mapping[str, str], thresholds: Mapping,
                 csv: Optional[Mapping] = None):
        super().__init__(spec=DriftCheckSpec(
            examples=examples, schema=schema, data_root=data_root,
            features=json.dumps(dict(sorted(features.items()))),
            thresholds=json.dumps(thresholds, sort_keys=True),
            csv=json.dumps(dict(csv or {}), sort_keys=True),
            drift=channel_utils.as_channel([DriftReport()])))
