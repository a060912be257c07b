"""Runs the stock TFX Chicago taxi pipeline once, as the tfx wheel ships it.

The pipeline module and its `taxi_utils_native_keras.py` are imported from site-packages
(never copied here) and built with their own `_create_pipeline` and Beam arguments
(`--direct_running_mode=multi_processing --direct_num_workers=0`, i.e. one worker per
core). The one change: the Trainer's hard-coded 1000/150 steps are replaced on the built
pipeline object by the benchmark's steps, so both pipelines train the same number of
steps. It runs with TFX's LocalDagRunner, the orchestrator Conveyor uses, so the
comparison is of the pipelines rather than of two orchestrators.

Usage: python -m bench.stock_pipeline --data DIR --work DIR --train-steps N --eval-steps M
"""

from __future__ import annotations

import argparse
import os
import traceback
from pathlib import Path

PIPELINE_NAME = "chicago_taxi_native_keras"


def paths(work: Path) -> dict[str, Path]:
    return {"pipeline_root": work / "pipelines" / PIPELINE_NAME,
            "serving_model_dir": work / "serving" / PIPELINE_NAME,
            "metadata_path": work / "metadata.sqlite"}


def build(data: Path, work: Path, train_steps: int, eval_steps: int):
    from google.protobuf import json_format
    from tfx.examples.chicago_taxi_pipeline import taxi_pipeline_native_keras as stock
    from tfx.proto import trainer_pb2

    where = paths(work)
    module_file = os.path.join(os.path.dirname(stock.__file__), "taxi_utils_native_keras.py")
    pipeline = stock._create_pipeline(  # noqa: SLF001  (the example's own entry point)
        pipeline_name=PIPELINE_NAME, pipeline_root=str(where["pipeline_root"]),
        data_root=str(data), module_file=module_file,
        serving_model_dir=str(where["serving_model_dir"]),
        metadata_path=str(where["metadata_path"]),
        beam_pipeline_args=list(stock._beam_pipeline_args))  # noqa: SLF001
    trainer = next(c for c in pipeline.components if c.id == "Trainer")
    for key, message in (("train_args", trainer_pb2.TrainArgs(num_steps=train_steps)),
                         ("eval_args", trainer_pb2.EvalArgs(num_steps=eval_steps))):
        trainer.exec_properties[key] = json_format.MessageToJson(
            message, sort_keys=True, preserving_proto_field_name=True)
    return pipeline


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--train-steps", type=int, required=True)
    parser.add_argument("--eval-steps", type=int, required=True)
    args = parser.parse_args(argv)
    from absl import logging as absl_logging
    from tfx.orchestration.local.local_dag_runner import LocalDagRunner

    absl_logging.set_verbosity(absl_logging.WARNING)
    try:
        LocalDagRunner().run(build(args.data, args.work, args.train_steps, args.eval_steps))
    except Exception:  # noqa: BLE001  (exit 3 like Conveyor's CLI; 1 would read "not blessed")
        traceback.print_exc()
        return 3
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
