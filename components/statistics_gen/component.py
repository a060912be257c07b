"""TFX's StatisticsGen, same spec and artifact, with the executor of executor.py."""

from tfx.components import StatisticsGen as TfxStatisticsGen
from tfx.dsl.components.base import executor_spec

from components.statistics_gen import executor

COMPONENT_ID = "StatisticsGen"


class StatisticsGen(TfxStatisticsGen):
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.with_id(COMPONENT_ID)  # the node's name wherever TFX's StatisticsGen's would be
