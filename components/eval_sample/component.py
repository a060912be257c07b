"""EvalSample: the Examples the Evaluator scores (see executor.py for why a sample)."""

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import channel_utils, standard_artifacts
from tfx.types.component_spec import ChannelParameter, ExecutionParameter

from components.eval_sample import executor


class EvalSampleSpec(types.ComponentSpec):
    PARAMETERS = {
        executor.SPLIT_KEY: ExecutionParameter(type=str),
        executor.MAX_EXAMPLES_KEY: ExecutionParameter(type=int),  # 0: the whole split
    }
    INPUTS = {executor.EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples)}
    OUTPUTS = {executor.SAMPLE_KEY: ChannelParameter(type=standard_artifacts.Examples)}


class EvalSample(base_component.BaseComponent):
    SPEC_CLASS = EvalSampleSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(self, examples: types.BaseChannel, max_examples: int, split: str = "eval"):
        super().__init__(spec=EvalSampleSpec(
            examples=examples, split=split, max_examples=max_examples,
            sample=channel_utils.as_channel([standard_artifacts.Examples()])))
