"""Personal columns never reach an artifact: plant values, run, search every file.

`rider_email` is pseudonymized (and used as a feature, so its pseudonyms reach the
vocabulary and the model); `customer_id` is dropped. After a full run, no file under
the workspace (gzip members decompressed) holds a planted value or the key.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
from pathlib import Path

import pytest

from components.csv_ingest.reader import PersonalData
from tests.conftest import TAXI_SCHEMA, run_cli, slice_spans, taxi_config

pytestmark = pytest.mark.e2e

PLANTED_EMAIL = "zq.planted.7731@example.org"
PLANTED_CUSTOMER = "CUST-PLANTED-99812"
KEY = "conveyor-test-key-5bf1e0a9"

PERSONAL_SCHEMA = """
feature {
  name: "rider_email"
  type: BYTES
  value_count { min: 0 max: 1 }
  presence { min_count: 0 }
}
"""

PERSONAL_CONFIG = """
[[features]]
name = "rider_email"
kind = "categorical"
top_k = 50
oov_buckets = 2

[privacy]
pseudonymize = ["rider_email"]
drop = ["customer_id"]
key_env = "CONVEYOR_TEST_PSEUDONYM_KEY"
"""


def add_personal_columns(path: Path) -> None:
    lines = path.read_text().splitlines()
    rows = [lines[0] + ",rider_email,customer_id"]
    for index, line in enumerate(lines[1:]):
        email = PLANTED_EMAIL if index % 7 == 0 else f"rider{index % 40}@example.net"
        customer = PLANTED_CUSTOMER if index % 5 == 0 else f"C{index:05d}"
        rows.append(f"{line},{email},{customer}")
    path.write_text("\n".join(rows) + "\n")


def files_containing(root: Path, needles: list[bytes]) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        content = path.read_bytes()
        if path.suffix == ".gz":
            content += gzip.decompress(content)
        found += [f"{path}: {needle!r}" for needle in needles if needle in content]
    return found


def test_no_raw_personal_value_or_key_reaches_any_artifact(tmp_path, monkeypatch):
    data = slice_spans(tmp_path / "data", 1500, spans=(1,))
    add_personal_columns(data / "span-1" / "data.csv")
    schema = tmp_path / "schema.pbtxt"
    schema.write_text(TAXI_SCHEMA.read_text() + PERSONAL_SCHEMA)
    config = taxi_config(tmp_path / "taxi.toml", data, train_steps=100, eval_steps=5)
    text = config.read_text().replace(str(TAXI_SCHEMA), str(schema))
    text = text.replace("[training]", PERSONAL_CONFIG + "\n[training]")
    config.write_text(text)
    workspace = tmp_path / "workspace"

    monkeypatch.delenv("CONVEYOR_TEST_PSEUDONYM_KEY", raising=False)
    refused = run_cli("run", "--config", str(config), "--workspace", str(workspace))
    assert refused.returncode == 2
    assert "CONVEYOR_TEST_PSEUDONYM_KEY, which is not set" in refused.stderr

    monkeypatch.setenv("CONVEYOR_TEST_PSEUDONYM_KEY", KEY)
    result = run_cli("run", "--config", str(config), "--workspace", str(workspace))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Pushed SavedModel" in result.stdout

    leaks = files_containing(workspace, [PLANTED_EMAIL.encode(), PLANTED_CUSTOMER.encode(),
                                         KEY.encode(), b"example.net"])
    assert leaks == []
    pseudonym = PersonalData(pseudonymize=("rider_email",), key=KEY.encode()).pseudonym(
        PLANTED_EMAIL).encode()
    assert pseudonym == hmac.new(KEY.encode(), PLANTED_EMAIL.encode(),
                                 hashlib.sha256).hexdigest()[:32].encode()
    # The column was kept, pseudonymized: its pseudonym is in the transform's vocabulary.
    vocabularies = list(workspace.rglob("vocabulary_rider_email"))
    assert vocabularies and pseudonym in vocabularies[0].read_bytes()
