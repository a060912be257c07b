"""Compiles the pipeline for Kubeflow Pipelines 2 or Vertex AI Pipelines with TFX's
KubeflowV2DagRunner.

The component graph is the factory's, the same one the local runner executes; this
module only decides where things live in the cluster (URIs from the config's
[kubeflow] table), which image runs each step, and passes the config's Beam args.
Metadata is the cluster's own, so no connection config goes in. Everything is checked
before anything is written, and the compiled spec is refused if it names a path of the
compiling machine, which no pod could read.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path, PurePosixPath
from typing import Optional

from pipeline.config import REMOTE_SCHEMES, Config, ConfigError
from pipeline.source_tree import ROOT

# The Dockerfile's WORKDIR and the project folders it copies there.
IMAGE_WORKDIR = PurePosixPath("/opt/conveyor")
IMAGE_FOLDERS = ("schema", "configs")
# .json: a PipelineJob (Vertex AI, `aiplatform.PipelineJob(template_path=...)`);
# .yaml: a PipelineSpec (KFP 2 `upload_pipeline` and the KFP UI).
OUTPUT_SUFFIXES = (".json", ".yaml", ".yml")
_IMAGE_REFERENCE = re.compile(
    r"^[a-z0-9][a-z0-9._/-]*(:[0-9]+/[a-z0-9._/-]+)?(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
    r"(@sha256:[0-9a-f]{64})?$")


# Every container a step runs goes through this module (see its docstring for why).
ENTRYPOINT = ["python", "-m", "components.container_entrypoint"]
EXECUTOR_LAUNCHER = "tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor"


def launcher_command() -> list[str]:
    """The container command of every step: TFX's Kubeflow V2 executor launcher, run by
    Conveyor's entry point."""
    return [*ENTRYPOINT, EXECUTOR_LAUNCHER]


def wrap_drivers(spec: dict) -> dict:
    """Runs each step's preCacheCheck (ExampleGen's driver, whose command TFX fixes) through
    the same entry point as its executor."""
    for executor in spec["deploymentSpec"]["executors"].values():
        check = executor.get("container", {}).get("lifecycle", {}).get("preCacheCheck")
        if check and check["command"][:2] == ["python", "-m"] \
                and check["command"][:3] != ENTRYPOINT:
            check["command"] = [*ENTRYPOINT, *check["command"][2:]]
    return spec


def image_for(config: Config, image: Optional[str]) -> str:
    """`--image`, else [kubeflow] image; a missing or malformed reference is a user error."""
    image = image or (config.kubeflow.image if config.kubeflow else None)
    if not image:
        raise ConfigError(f"{config.source}: no container image: pass --image IMAGE or set "
                          f"[kubeflow] image (see docs/DEPLOY.md)")
    if not _IMAGE_REFERENCE.match(image):
        raise ConfigError(f"'{image}' is not a container image reference "
                          f"(e.g. us-docker.pkg.dev/PROJECT/ROOT/conveyor:1.0)")
    return image


def schema_location(config: Config) -> str:
    """The curated schema as a pod sees it: a bucket URI, or the copy baked into the image."""
    where = f"{config.source}: [kubeflow.schema]"
    explicit = config.kubeflow.schema
    if explicit:
        if explicit.startswith(REMOTE_SCHEMES) or IMAGE_WORKDIR in PurePosixPath(explicit).parents:
            return explicit
        raise ConfigError(f"{where} '{explicit}' is neither a bucket URI nor a path in the "
                          f"image (under {IMAGE_WORKDIR}/)")
    try:
        relative = config.schema.relative_to(ROOT)
    except ValueError:
        relative = None
    if relative is None or relative.parts[0] not in IMAGE_FOLDERS:
        raise ConfigError(f"{where} not set, and the schema {config.schema} is not in a folder "
                          f"the image holds ({', '.join(IMAGE_FOLDERS)}/): copy it to a bucket "
                          f"and set [kubeflow] schema to its URI")
    if not config.schema.is_file():
        raise ConfigError(f"{config.source}: [pipeline.schema] schema file {config.schema} "
                          f"does not exist, so the image would not hold it")
    return str(IMAGE_WORKDIR / relative.as_posix())


def locations(config: Config):
    """The factory's Locations, filled with cluster URIs."""
    from pipeline import factory

    return factory.Locations(**cluster_paths(config))


def cluster_paths(config: Config) -> dict:
    """Checked without importing TFX, so a config mistake is reported at once."""
    if config.kubeflow is None:
        raise ConfigError(f"{config.source}: no [kubeflow] table: it names the pipeline_root, "
                          f"data_root and serving_dir the cluster uses (see docs/DEPLOY.md)")
    cluster = config.kubeflow
    return dict(data_root=cluster.data_root, schema_file=schema_location(config),
                pipeline_root=cluster.pipeline_root, serving_dir=cluster.serving_dir)


def build(config: Config):
    """The factory's pipeline with cluster URIs, the cluster's metadata and the config's
    Beam args (the same function the local runner takes them from)."""
    from pipeline import factory

    return factory.create_pipeline(config, locations(config), config.beam.pipeline_args(),
                                   metadata_connection=None, builtin_resolvers_only=True)


def compile_job(config: Config, image: str) -> dict:
    """The PipelineJob (as a JSON dict) whose pipelineSpec runs every step in `image`."""
    from tfx.orchestration.kubeflow.v2 import kubeflow_v2_dag_runner as v2

    runner = v2.KubeflowV2DagRunner(config=v2.KubeflowV2DagRunnerConfig(
        display_name=config.name, default_image=image, default_commands=launcher_command()))
    job = runner.run(build(config), write_out=False)
    wrap_drivers(job["pipelineSpec"])
    return job


def local_paths_in(text: str, config: Config) -> list[str]:
    """Paths of this machine named in `text` (as whole paths, so gs://b/home is no match)."""
    candidates = {str(ROOT), str(config.source.parent), os.getcwd(), str(Path.home())}
    found = []
    for path in sorted(c for c in candidates if c not in ("", "/")):
        if re.search(r"(?<![\w/:.-])" + re.escape(path) + r"(?![\w.-])", text):
            found.append(path)
    return found


def check_output(output: Path) -> None:
    if output.suffix not in OUTPUT_SUFFIXES:
        raise ConfigError(f"--output {output}: use a .json file (a PipelineJob for Vertex AI) "
                          f"or a .yaml file (a PipelineSpec for KFP 2)")
    if output.is_dir():
        raise ConfigError(f"--output {output} is a folder")


def compile_to_file(config: Config, image: Optional[str], output: Path) -> dict:
    """Checks everything, compiles, then writes `output` in one rename (never half a file)."""
    image = image_for(config, image)
    check_output(output)
    cluster_paths(config)  # every location error before TFX is imported
    job = compile_job(config, image)
    if output.suffix == ".json":
        text = json.dumps(job, indent=2, sort_keys=True)
    else:
        import yaml

        spec = dict(job["pipelineSpec"])
        spec["defaultPipelineRoot"] = job["runtimeConfig"]["gcsOutputDirectory"]
        text = yaml.safe_dump(spec, sort_keys=True)
    leaked = local_paths_in(text, config)
    if leaked:
        raise ConfigError(f"{config.source}: the compiled pipeline names path(s) of this "
                          f"machine, which no pod can read: {', '.join(leaked)}")
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    staging.write_text(text, encoding="utf-8")
    os.replace(staging, output)
    return job
