"""`run` when nothing has changed since the workspace's last complete run: the answer is
that run's, read from ML Metadata before TensorFlow, Beam or TFX is imported.

TFX's cache makes such a re-run cheap in work but not in time: the runner still imports
TensorFlow, Beam and every component, compiles the pipeline and asks the store about each
node, only to find every one cached. A run that finishes (every component executed or
cached) records a digest of what its results depend on on its pipeline_run context; a
later `run` whose digest is the same, whose store holds no run of the pipeline since, and
whose recorded outputs (with the serving version and the run's page it names) are all
still on disk, prints that run's summary instead.

The digest is stricter than TFX's cache key, never looser: the effective config (after
the command line's overrides), the schema file's bytes, the span's files by name, size
and modification time (what CsvExampleGen's fingerprint holds), every source file of
Conveyor's own packages (TFX's key knows a custom executor by its class path only), the
versions of the packages that compute the results, and a digest of the pseudonymization
key. Anything it cannot read sends the run through TFX as before, which also reports
the error in the usual words; `run --rerun` always does.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import os
from pathlib import Path
from typing import Iterable, Optional

from pipeline.config import Config
from pipeline.dataset.spans import select_span
from pipeline.metadata import store as metadata_store
from pipeline.metadata.walker import (INPUTS_DIGEST_PROPERTY, Walker, set_run_property,
                                      string_property)
from pipeline.source_tree import ROOT, code_digest
from pipeline.summary.summary import RunSummary, summarize

CODE_PACKAGES = ("pipeline", "components", "models")
# The packages whose versions decide what a run computes (ingestion, statistics, the
# transform, training, evaluation, the TFLite conversion, the metadata it records).
RESULT_PACKAGES = ("tfx", "tensorflow", "tf-keras", "tensorflow-transform",
                   "tensorflow-model-analysis", "tensorflow-data-validation", "tfx-bsl",
                   "apache-beam", "ml-metadata", "tensorflow-model-optimization", "pyarrow",
                   "numpy")
FINISHED_STATES = ("executed", "cached")


def inputs_digest(config: Config, code_root: Path = ROOT) -> str:
    """The digest of everything a complete run's results depend on (module docstring)."""
    digest = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        digest.update(f"{label}\0{len(data)}\0".encode() + data)

    add("config", repr(config).encode())
    add("schema", config.schema.read_bytes())
    for path in select_span(config.data_root, config.span).files:
        stat = path.stat()
        add("data", f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    add("code", code_digest([code_root / package for package in CODE_PACKAGES],
                            code_root).encode())
    for name in RESULT_PACKAGES:
        add(name, _version(name).encode())
    add("legacy keras", os.environ.get("TF_USE_LEGACY_KERAS", "").encode())
    key = os.environ.get(config.privacy.key_env, "") if config.privacy.pseudonymize else ""
    add("pseudonym key", hashlib.sha256(key.encode()).digest())
    return digest.hexdigest()


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return ""


def digest_or_none(config: Config) -> Optional[str]:
    """`inputs_digest`, or None when an input cannot be read: the run through TFX then
    names it in the usual words, and records nothing."""
    try:
        return inputs_digest(config)
    except Exception:  # noqa: BLE001  (any unreadable input; the run's checks report it)
        return None


def unchanged_run(config: Config, digest: str) -> Optional[RunSummary]:
    """The summary of the last complete run, as a cached run reports it, when its inputs'
    digest is `digest` and nothing has changed since; None when the pipeline has to run."""
    try:
        store = metadata_store.open_store(config, create=False)
    except metadata_store.StoreUnavailable:  # no run has used this workspace yet
        return None
    run = Walker(store, config.name).latest_run()
    if run is None or string_property(run, INPUTS_DIGEST_PROPERTY) != digest:
        return None
    summary = summarize(store, config.name, run_id=run.name)
    if summary is None:
        return None
    uris = [artifact.uri for outputs in summary.outputs.values()
            for artifacts in outputs.values() for artifact in artifacts]
    if not _all_exist(uris + [summary.saved_model or "", summary.report or ""]):
        return None
    return dataclasses.replace(summary, components=[(node, "cached")
                                                    for node, _ in summary.components],
                               seconds={})


def _all_exist(uris: Iterable[str]) -> bool:
    """Whether every path exists. The local runner's artifacts are local files; a URI
    with a scheme (gs://) is never found here, so such a run goes through TFX."""
    return all(os.path.exists(uri) for uri in uris if uri)


def record(store, config: Config, summary: RunSummary, digest: str) -> None:
    """Marks the run just finished as the answer to a later `run` with the same digest;
    a run that stopped early (failed, validation only) is never marked."""
    if summary.components and all(state in FINISHED_STATES
                                  for _, state in summary.components):
        set_run_property(store, config.name, summary.run_id, INPUTS_DIGEST_PROPERTY, digest)
