"""Where each run's HTML page is, recorded in ML Metadata with the run.

The path is a custom property of the run's pipeline_run context, so `lineage runs` and
`report` find a run's page from the store alone, wherever the workspace was.
"""

from __future__ import annotations

from ml_metadata import metadata_store

from pipeline.metadata.walker import REPORT_PROPERTY, set_run_property


def record_report(store: metadata_store.MetadataStore, pipeline_name: str, run_id: str,
                  path: str) -> None:
    set_run_property(store, pipeline_name, run_id, REPORT_PROPERTY, path)
