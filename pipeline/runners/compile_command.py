"""`python -m pipeline compile kubeflow`: the same pipeline as `run`, as a KFP v2 spec."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline import config as config_lib


def register(commands) -> None:
    command = commands.add_parser(
        "compile", help="compile the pipeline for a cluster orchestrator (kubeflow: a KFP v2 "
                        "spec for Kubeflow Pipelines 2 or Vertex AI Pipelines)")
    command.add_argument("target", choices=("kubeflow",))
    command.add_argument("--output", type=Path, required=True,
                         help="pipeline.json (a PipelineJob, for Vertex AI) or pipeline.yaml "
                              "(a PipelineSpec, for KFP 2 upload)")
    command.add_argument("--image", help="the image every step runs (default: [kubeflow] image)")
    command.add_argument("--config", type=Path, default=config_lib.DEFAULT_CONFIG)
    command.add_argument("--beam-runner",
                         help="DirectRunner, DataflowRunner, FlinkRunner or SparkRunner "
                              "(default: [beam] runner); its options come from [beam]")
    command.set_defaults(handler=compile_command)


def compile_command(args: argparse.Namespace) -> int:
    config = config_lib.load(args.config).with_overrides(beam_runner=args.beam_runner)
    from pipeline.runners import kubeflow as kubeflow_runner

    job = kubeflow_runner.compile_to_file(config, args.image, args.output)
    spec = job["pipelineSpec"]
    executors = spec["deploymentSpec"]["executors"].values()
    images = sorted({e["container"]["image"] for e in executors if "container" in e})
    print(f"wrote {args.output}: {len(spec['root']['dag']['tasks'])} tasks, image "
          f"{', '.join(images)}, Beam {config.beam.runner}, pipeline root "
          f"{job['runtimeConfig']['gcsOutputDirectory']}")
    return 0
