"""VersionedPusher: TFX's Pusher contract (a PushedModel with `pushed`,
`pushed_destination`, `pushed_version`), plus the TFLite model and an atomic publish.

TFX's Pusher copies file by file into the final folder, so a crash leaves a partial
version that a model server may load. This one assembles the version in a hidden
sibling folder and renames it into place.
"""

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import channel_utils, standard_artifacts
from tfx.types.component_spec import ChannelParameter, ExecutionParameter

from components.versioned_pusher import executor


class VersionedPusherSpec(types.ComponentSpec):
    PARAMETERS = {
        executor.SERVING_DIR_KEY: ExecutionParameter(type=str),
    }
    INPUTS = {
        executor.MODEL_KEY: ChannelParameter(type=standard_artifacts.Model),
        executor.BLESSING_KEY: ChannelParameter(type=standard_artifacts.ModelBlessing),
    }
    OUTPUTS = {
        executor.PUSHED_MODEL_KEY: ChannelParameter(type=standard_artifacts.PushedModel),
    }


class VersionedPusher(base_component.BaseComponent):
    SPEC_CLASS = VersionedPusherSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(self, model: types.BaseChannel, model_blessing: types.BaseChannel,
                 serving_dir: str):
        super().__init__(spec=VersionedPusherSpec(
            model=model, model_blessing=model_blessing, serving_dir=serving_dir,
            pushed_model=channel_utils.as_channel([standard_artifacts.PushedModel()])))
