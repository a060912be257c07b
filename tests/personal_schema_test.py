"""A pseudonymized or dropped column against the curated schema: raw values listed there
are a config error; the drafted entry lets the run go through with no raw value in any
file of the workspace (gzip members decompressed), schema and anomaly artifacts included."""

from __future__ import annotations

import csv
import gzip
import os
from pathlib import Path

import pytest
from tensorflow_metadata.proto.v0 import schema_pb2

from pipeline import config as config_lib
from pipeline.config import personal_schema
from tests.conftest import TAXI_SCHEMA, run_cli, slice_spans, taxi_config

KEY_ENV = "CONVEYOR_TEST_PSEUDONYM_KEY"
PRIVACY = f'[privacy]\npseudonymize = ["company"]\nkey_env = "{KEY_ENV}"\n'


def _config(tmp_path: Path, privacy: str, schema: Path = TAXI_SCHEMA, rows: int = 5) -> Path:
    path = taxi_config(tmp_path / "c.toml", slice_spans(tmp_path / "data", rows, spans=(1,)),
                       train_steps=20, eval_steps=2)
    text = path.read_text().replace(str(TAXI_SCHEMA), str(schema))
    path.write_text(text.replace("[training]", privacy + "\n[training]"))
    return path


def test_a_pseudonymized_column_with_raw_values_in_the_schema_is_a_config_error(tmp_path):
    path = _config(tmp_path, PRIVACY)
    with pytest.raises(config_lib.ConfigError) as error:
        config_lib.load(path)
    assert str(error.value) == (
        f"{path}: [privacy] column 'company' is pseudonymized, but the schema {TAXI_SCHEMA} "
        f"lists its raw values (string_domain 'company'); remove them (`python -m pipeline "
        f"schema --config` drafts a string entry, no domain)")


def test_a_dropped_column_with_its_own_domain_is_a_config_error(tmp_path):
    schema = tmp_path / "schema.pbtxt"
    schema.write_text(TAXI_SCHEMA.read_text() + 'feature { name: "rider" type: BYTES '
                      'string_domain { value: "Ann Example" } }\n')
    path = _config(tmp_path, '[privacy]\ndrop = ["rider"]\n', schema)
    with pytest.raises(config_lib.ConfigError,
                       match="column 'rider' is dropped, .*feature 'rider' string_domain"):
        config_lib.load(path)


def drafted_taxi_schema(tmp_path: Path) -> Path:
    schema = personal_schema.read_schema(TAXI_SCHEMA)
    personal_schema.draft_entries(schema, config_lib.Privacy(pseudonymize=("company",)))
    path = tmp_path / "schema.pbtxt"
    path.write_text(str(schema))
    return path


def test_the_drafted_entry_is_a_string_without_a_domain(tmp_path):
    schema = personal_schema.read_schema(drafted_taxi_schema(tmp_path))
    company = next(f for f in schema.feature if f.name == "company")
    assert company.type == schema_pb2.BYTES and company.WhichOneof("domain_info") is None
    assert "company" not in [d.name for d in schema.string_domain]
    assert personal_schema.raw_value_entries(schema, "company") == []


def raw_companies(data: Path) -> set[str]:
    with open(data / "span-1" / "data.csv", newline="", encoding="utf-8") as handle:
        return {row["company"] for row in csv.DictReader(handle) if row["company"]}


def files_containing(root: Path, needles: list[bytes]) -> list[str]:
    found = []
    for path in (p for p in root.rglob("*") if p.is_file()):
        content = path.read_bytes()
        if content.startswith(b"\x1f\x8b"):
            content += gzip.decompress(content)
        found += [f"{path}: {needle!r}" for needle in needles if needle in content]
    return found


@pytest.mark.e2e
def test_the_schema_command_drafts_the_entry_without_raw_values(tmp_path):
    path = _config(tmp_path, PRIVACY, rows=200)
    output = tmp_path / "draft.pbtxt"
    result = run_cli("schema", "--data", str(tmp_path / "data" / "span-1" / "data.csv"),
                     "--label", "big_tipper", "--config", str(path), "--output", str(output))
    assert result.returncode == 0, result.stderr[-2000:]
    draft = output.read_bytes()
    assert not [name for name in raw_companies(tmp_path / "data") if name.encode() in draft]
    assert personal_schema.raw_value_entries(personal_schema.read_schema(output), "company") == []


@pytest.mark.e2e
def test_with_pseudonymization_no_raw_value_reaches_the_workspace(tmp_path):
    path = _config(tmp_path, PRIVACY, drafted_taxi_schema(tmp_path), rows=400)
    names = sorted(raw_companies(tmp_path / "data"))
    assert len(names) >= 3
    workspace = tmp_path / "workspace"
    env_result = run_cli_with_key(path, workspace)
    assert env_result.returncode == 0 or "Not blessed" in env_result.stderr, (
        env_result.stdout[-2000:] + env_result.stderr[-2000:])
    assert "Anomalies: none" in env_result.stdout
    assert files_containing(workspace, [n.encode() for n in names]) == []


def run_cli_with_key(config: Path, workspace: Path):
    os.environ[KEY_ENV] = "personal-schema-test-key"
    try:
        return run_cli("run", "--config", str(config), "--workspace", str(workspace))
    finally:
        del os.environ[KEY_ENV]
