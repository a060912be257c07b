"""Runs a compiled KFP v2 PipelineJob (the JSON `python -m pipeline compile kubeflow`
writes) task by task, as KFP's v2 driver and launcher would, on this machine.

What it emulates: the DAG order of `root.dag.tasks` (dependentTasks and the producers of
input artifacts); for each container task one OS process per command, running exactly
the executor's `command` and `args` from `deploymentSpec` (only the interpreter, the
image's `python`, is this venv's), with `{{$}}` replaced by an ExecutorInput filled as
the launcher fills it: input artifacts (name, type, URI, metadata) from the upstream
tasks' executor output, constant parameters, output artifact URIs under the job's
pipeline root, and the output metadata file, which is read back after the process ends.
A `lifecycle.preCacheCheck` command runs first; its output parameters and artifact
metadata update the task's inputs and outputs, as the backend does before the executor
runs. Resolver executors evaluate their `outputArtifactQueries` filter over every
artifact this harness has recorded (the newest match, as a metadata query ordered by
creation would); importer executors record their constant URI. Nothing here knows a
component by name: everything comes from the spec.

What it does not emulate: pods, images, scheduling, retries, caching, KFP's or Vertex
ML Metadata (the record is a list in memory), triggerPolicy conditions and loops (a spec
with them is refused rather than run wrong), and any placeholder but `{{$}}`.

How a task is judged: a task has succeeded only when its process exited 0 (as on a
cluster, where any other status fails the step) and the launcher wrote the output
metadata file, which it does as its very last step. The compiled commands go through
components/container_entrypoint, which keeps tensorflow-io's S3 teardown abort from
turning finished work into a failed step. The preCacheCheck's file
at the same path is removed before the executor runs, so a file found afterwards is the
executor's.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from typing import Callable, Optional



class TaskFailed(RuntimeError):
    pass


@dataclass
class Artifact:
    name: str
    schema_title: str
    uri: str
    metadata: dict
    producer: str

    def runtime(self, type_schema: dict) -> dict:
        return {"name": self.name, "type": type_schema, "uri": self.uri, "metadata": self.metadata}


@dataclass
class Storage:
    """How the harness reads and removes the output metadata files (outside the tasks)."""
    read: Callable[[str], Optional[bytes]]  # None when absent
    remove: Callable[[str], None]


@dataclass
class RunResult:
    run_id: str
    outputs: dict = field(default_factory=dict)  # task -> output key -> [Artifact]
    inputs: dict = field(default_factory=dict)  # task -> input key -> [Artifact]
    logs: dict = field(default_factory=dict)  # task -> stderr of its last process


def title_of(type_schema: dict) -> str:
    if "schemaTitle" in type_schema:
        return type_schema["schemaTitle"]
    match = re.search(r"^title:\s*(\S+)", type_schema.get("instanceSchema", ""), re.M)
    return match.group(1) if match else "system.Artifact"


def dag_order(tasks: dict) -> list[str]:
    """Tasks after everything they depend on (dependentTasks and artifact producers)."""
    def upstream(name):
        task = tasks[name]
        producers = {spec["taskOutputArtifact"]["producerTask"]
                     for spec in task.get("inputs", {}).get("artifacts", {}).values()
                     if "taskOutputArtifact" in spec}
        return set(task.get("dependentTasks", [])) | producers

    order, done = [], set()
    while len(order) < len(tasks):
        ready = sorted(n for n in tasks if n not in done and upstream(n) <= done)
        if not ready:
            raise ValueError(f"cycle among {sorted(set(tasks) - done)}")
        order += ready
        done |= set(ready)
    return order


def parameters(task: dict) -> tuple[dict, dict]:
    """(parameters, parameterValues): the deprecated typed Value form the TFX launcher
    reads without an inputs spec, and the struct form; both filled, as the backend does."""
    typed, values = {}, {}
    for key, spec in task.get("inputs", {}).get("parameters", {}).items():
        if "runtimeValue" not in spec or "constantValue" not in spec["runtimeValue"]:
            raise ValueError(f"parameter {key}: only constant values are emulated: {spec}")
        constant = spec["runtimeValue"]["constantValue"]
        typed[key] = constant
        kind, value = next(iter(constant.items()))
        values[key] = int(value) if kind == "intValue" else value
    return typed, values


class Harness:
    def __init__(self, job: dict, storage: Storage, env: dict, cwd: str,
                 python: str = sys.executable, timeout: int = 1800):
        self.job, self.spec = job, job["pipelineSpec"]
        self.root = job["runtimeConfig"]["gcsOutputDirectory"].rstrip("/")
        self.storage, self.env, self.cwd = storage, env, cwd
        self.python, self.timeout = python, timeout
        self.recorded: list[Artifact] = []  # every artifact of every run, oldest first

    def run(self) -> RunResult:
        result = RunResult(run_id=f"run-{uuid.uuid4().hex[:10]}")
        tasks = self.spec["root"]["dag"]["tasks"]
        for name in dag_order(tasks):
            task = tasks[name]
            if "triggerPolicy" in task or "iteratorPolicy" in task:
                raise ValueError(f"task {name}: conditions and loops are not emulated")
            component = self.spec["components"][task["componentRef"]["name"]]
            executor = self.spec["deploymentSpec"]["executors"][component["executorLabel"]]
            inputs = self._inputs(task, result)
            result.inputs[name] = inputs
            if "container" in executor:
                outputs = self._container(name, task, component, executor["container"],
                                          inputs, result)
            elif "resolver" in executor:
                outputs = self._resolve(executor["resolver"], inputs)
            elif "importer" in executor:
                outputs = self._import(name, executor["importer"], component, result.run_id)
            else:
                raise ValueError(f"task {name}: unknown executor {sorted(executor)}")
            result.outputs[name] = outputs
        return result

    def _inputs(self, task: dict, result: RunResult) -> dict:
        inputs = {}
        for key, spec in task.get("inputs", {}).get("artifacts", {}).items():
            source = spec["taskOutputArtifact"]
            inputs[key] = result.outputs[source["producerTask"]].get(
                source["outputArtifactKey"], [])
        return inputs

    # ------------------------------------------------------------------ containers

    def _container(self, name, task, component, container, inputs, result) -> dict:
        task_root = f"{self.root}/{result.run_id}/{name}"
        output_file = f"{task_root}/executor_output.json"
        typed, values = parameters(task)
        in_types = component.get("inputDefinitions", {}).get("artifacts", {})
        out_types = component.get("outputDefinitions", {}).get("artifacts", {})
        executor_input = {
            "inputs": {"parameters": typed, "parameterValues": values, "artifacts": {
                key: {"artifacts": [a.runtime(in_types[key]["artifactType"]) for a in found]}
                for key, found in inputs.items() if found}},
            "outputs": {"outputFile": output_file, "artifacts": {
                key: {"artifacts": [{"name": f"{result.run_id}/{name}/{key}",
                                     "type": spec["artifactType"],
                                     "uri": f"{task_root}/{key}", "metadata": {}}]}
                for key, spec in out_types.items()}},
        }
        driver = container.get("lifecycle", {}).get("preCacheCheck")
        if driver:
            self._process(name, driver["command"], driver["args"], executor_input, result)
            self._apply_driver_output(executor_input, self._read_output(name, output_file))
            self.storage.remove(output_file)
        self._process(name, container["command"], container["args"], executor_input, result)
        written = self._read_output(name, output_file)
        outputs = {}
        for key, spec in out_types.items():
            declared = executor_input["outputs"]["artifacts"][key]["artifacts"][0]
            produced = written.get("artifacts", {}).get(key, {}).get("artifacts", [declared])
            outputs[key] = [self._record(Artifact(
                declared["name"], title_of(spec["artifactType"]), item.get("uri", declared["uri"]),
                item.get("metadata", {}), name)) for item in produced]
        return outputs

    @staticmethod
    def _apply_driver_output(executor_input: dict, driver_output: dict) -> None:
        inputs = executor_input["inputs"]
        for key, value in driver_output.get("parameterValues", {}).items():
            inputs["parameterValues"][key] = value
            inputs["parameters"][key] = ({"stringValue": value} if isinstance(value, str) else
                                         {"intValue": str(int(value))})
        for key, listed in driver_output.get("artifacts", {}).items():
            declared = executor_input["outputs"]["artifacts"][key]["artifacts"]
            for target, source in zip(declared, listed["artifacts"]):
                target["metadata"].update(source.get("metadata", {}))

    def _process(self, name, command, args, executor_input, result) -> None:
        if not command or command[0] not in ("python", "python3"):
            raise ValueError(f"task {name}: command {command} does not start with python")
        filled = [json.dumps(executor_input) if a == "{{$}}" else a for a in args]
        leftover = [a for a in filled if "{{$" in a]
        if leftover:
            raise ValueError(f"task {name}: placeholders not emulated: {leftover}")
        done = subprocess.run([self.python, *command[1:], *filled], cwd=self.cwd, env=self.env,
                              capture_output=True, text=True, timeout=self.timeout)
        result.logs[name] = done.stderr
        if done.returncode != 0:
            raise TaskFailed(f"task {name} exited with {done.returncode}:\n{done.stderr[-4000:]}")

    def _read_output(self, name: str, uri: str) -> dict:
        content = self.storage.read(uri)
        if content is None:
            raise TaskFailed(f"task {name} wrote no output metadata at {uri}: it did not finish")
        return json.loads(content)

    def _record(self, artifact: Artifact) -> Artifact:
        self.recorded.append(artifact)
        return artifact

    # ------------------------------------------------------------------ resolver, importer

    def _resolve(self, resolver: dict, inputs: dict) -> dict:
        outputs = {}
        for key, query in resolver["outputArtifactQueries"].items():
            matches = [a for a in self.recorded if matches_filter(query["filter"], a, inputs)]
            outputs[key] = matches[-1:]
        return outputs

    def _import(self, name, importer, component, run_id) -> dict:
        uri = importer["artifactUri"]["constantValue"]["stringValue"]
        (key, spec), = component["outputDefinitions"]["artifacts"].items()
        return {key: [self._record(Artifact(f"{run_id}/{name}/{key}", title_of(importer["typeSchema"]),
                                            uri, importer.get("metadata", {}), name))]}


_CLAUSE = re.compile(r'^(schema_title|name|state|metadata\.(\w+)\.(number_value|string_value))'
                     r'\s*=\s*("([^"]*)"|\S+)$')
_PLACEHOLDER = re.compile(r"\{\{\$\.inputs\.artifacts\['(\w+)'\]\.metadata\['(\w+)'\]\}\}")


def matches_filter(query: str, artifact: Artifact, inputs: dict) -> bool:
    """An AIP-160 style filter of `a = b` clauses joined by AND, with placeholders on the
    task's input artifacts' metadata; a clause of another form is an error."""
    def placeholder(match):
        found = inputs.get(match.group(1), [])
        return str(found[0].metadata.get(match.group(2), "")) if found else "\0absent"

    for clause in re.split(r"\s+AND\s+", _PLACEHOLDER.sub(placeholder, query.strip())):
        parsed = _CLAUSE.match(clause.strip())
        if not parsed:
            raise ValueError(f"resolver filter clause not emulated: {clause!r}")
        field_name, key, kind, raw, quoted = parsed.groups()
        value = quoted if quoted is not None else raw
        if field_name == "schema_title" and artifact.schema_title != value:
            return False
        if field_name == "name" and artifact.name != value:
            return False
        if field_name == "state" and value != "LIVE":
            return False
        if key is not None:
            actual = artifact.metadata.get(key)
            if kind == "number_value":
                if actual is None or float(actual) != float(value):
                    return False
            elif actual != value:
                return False
    return True
