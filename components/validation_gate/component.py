"""ValidationGate: passes the schema on only when the validated splits have no anomalies
(and, when it is given a DriftReport, no feature drifted over its threshold).

ExampleValidator records anomalies but never stops a run. Transform takes its schema
from this gate's output, so a blocked gate leaves Transform, Trainer, Evaluator and
Pusher without input on every orchestrator (local or Kubeflow), with no special casing.
"""

import json
from typing import Optional, Sequence

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import channel_utils, standard_artifacts
from tfx.types.component_spec import ChannelParameter, ExecutionParameter

from components.drift_check.component import DriftReport
from components.validation_gate import executor


class ValidationGateSpec(types.ComponentSpec):
    PARAMETERS = {
        executor.SPLITS_KEY: ExecutionParameter(type=str),  # JSON list of gated split names
    }
    INPUTS = {
        executor.SCHEMA_KEY: ChannelParameter(type=standard_artifacts.Schema),
        executor.ANOMALIES_KEY: ChannelParameter(type=standard_artifacts.ExampleAnomalies),
        # Wired only when drift blocks training (config [drift] mode = "block").
        executor.DRIFT_KEY: ChannelParameter(type=DriftReport, optional=True),
    }
    OUTPUTS = {
        executor.VALIDATED_SCHEMA_KEY: ChannelParameter(type=standard_artifacts.Schema),
    }


class ValidationGate(base_component.BaseComponent):
    SPEC_CLASS = ValidationGateSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(self, schema: types.BaseChannel, anomalies: types.BaseChannel,
                 splits: Sequence[str] = ("train", "eval"),
                 drift: Optional[types.BaseChannel] = None):
        super().__init__(spec=ValidationGateSpec(
            schema=schema, anomalies=anomalies, splits=json.dumps(list(splits)), drift=drift,
            validated_schema=channel_utils.as_channel([standard_artifacts.Schema()])))
