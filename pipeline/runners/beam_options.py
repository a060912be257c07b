"""Beam runners Conveyor supports and the command-line options each one takes.

The local runner and the Kubeflow compiler both get their Beam arguments from
`pipeline_args` here, so a Dataflow, Flink or Spark setting reaches every Beam-based
component the same way whichever orchestrator runs the pipeline. A config may hold
options of several runners (e.g. DirectRunner for local runs plus the Dataflow project
for `--beam-runner DataflowRunner`); only the selected runner's options are passed on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DIRECT, DATAFLOW, FLINK, SPARK = "DirectRunner", "DataflowRunner", "FlinkRunner", "SparkRunner"
DIRECT_RUNNING_MODES = ("in_memory", "multi_threading", "multi_processing")
ENVIRONMENT_TYPES = ("DOCKER", "PROCESS", "EXTERNAL", "LOOPBACK")


@dataclass(frozen=True)
class RunnerOptions:
    """The [beam] keys a runner reads, in the order they become `--key=value` args."""

    options: tuple[str, ...]
    required: tuple[str, ...] = ()
    # At least one of these must be set (e.g. a Flink master or a job server).
    one_of: tuple[str, ...] = ()


RUNNERS = {
    DIRECT: RunnerOptions(("direct_running_mode", "direct_num_workers")),
    DATAFLOW: RunnerOptions(("project", "region", "temp_location", "service_account_email",
                             "sdk_container_image"),
                            required=("project", "region", "temp_location")),
    FLINK: RunnerOptions(("flink_master", "job_endpoint", "environment_type",
                          "environment_config", "parallelism"),
                         one_of=("flink_master", "job_endpoint")),
    SPARK: RunnerOptions(("spark_master_url", "job_endpoint", "environment_type",
                          "environment_config"),
                         one_of=("spark_master_url", "job_endpoint")),
}


def pipeline_args(beam: Any) -> list[str]:
    """`--runner=...`, the selected runner's options that are set, then `extra_args`."""
    args = [f"--runner={beam.runner}"]
    for key in RUNNERS[beam.runner].options:
        value = getattr(beam, key)
        if value is not None and value != "":
            args.append(f"--{key}={value}")
    return args + list(beam.extra_args)


def problems(beam: Any) -> list[tuple[str, str]]:
    """What stops `beam` from running, as (key, message) pairs; empty when it can run."""
    if beam.runner not in RUNNERS:
        return [("runner", f"unknown runner '{beam.runner}' (expected one of "
                           f"{', '.join(RUNNERS)})")]
    spec = RUNNERS[beam.runner]
    found = []
    missing = [key for key in spec.required if not getattr(beam, key)]
    if missing:
        found.append((missing[0], f"{beam.runner} needs {', '.join(missing)}"))
    if spec.one_of and not any(getattr(beam, key) for key in spec.one_of):
        found.append((spec.one_of[0], f"{beam.runner} needs one of {', '.join(spec.one_of)}"))
    if beam.direct_running_mode not in DIRECT_RUNNING_MODES:
        found.append(("direct_running_mode", f"unknown mode '{beam.direct_running_mode}' "
                                             f"(expected one of {', '.join(DIRECT_RUNNING_MODES)})"))
    if beam.parallel_above_mb < 0:
        found.append(("parallel_above_mb", f"must be 0 (never) or a size in MB, got "
                                           f"{beam.parallel_above_mb}"))
    if beam.environment_type and beam.environment_type not in ENVIRONMENT_TYPES:
        found.append(("environment_type", f"unknown environment type '{beam.environment_type}' "
                                          f"(expected one of {', '.join(ENVIRONMENT_TYPES)})"))
    if beam.temp_location and beam.runner == DATAFLOW and not beam.temp_location.startswith("gs://"):
        found.append(("temp_location", f"Dataflow needs a gs:// temp_location, got "
                                       f"'{beam.temp_location}'"))
    set_twice = sorted(arg.split("=", 1)[0] for arg in beam.extra_args
                       if arg.split("=", 1)[0].lstrip("-") in {"runner", *spec.options})
    if set_twice:
        found.append(("extra_args", f"{', '.join(set_twice)} has its own [beam] key; set it there"))
    return found
