"""Exit status 2 for what a user's file or config causes, 3 for everything else."""

from __future__ import annotations

import re

import pytest

from components.csv_ingest.reader import CsvError
from components.drift import InputDataError
from pipeline.config import ConfigError
from pipeline.errors import (ComponentFailed, DataError, InputError, component_failure,
                             failure_line)
from pipeline.lineage.types import LineageError
from pipeline.runners.workspace_lock import AlreadyRunning
from tests.conftest import run_cli, slice_spans, taxi_config


@pytest.mark.parametrize("kind", [ConfigError, DataError, AlreadyRunning, CsvError,
                                  InputDataError, LineageError])
def test_every_user_caused_error_shares_the_input_base(kind):
    assert issubclass(kind, InputError)


def test_a_component_input_error_stays_an_input_error():
    error = component_failure(CsvError("/d/span-1/data.csv: empty file"), "CsvExampleGen")
    assert isinstance(error, InputError)
    assert str(error) == "run failed in CsvExampleGen: /d/span-1/data.csv: empty file"


def test_a_component_bug_is_a_failure_with_the_hint():
    error = component_failure(TypeError("unsupported operand [while running 'Step']"),
                              "Trainer")
    assert isinstance(error, ComponentFailed) and not isinstance(error, InputError)
    assert failure_line(error, verbose=False) == (
        "error: run failed in Trainer: TypeError: unsupported operand "
        "(--verbose for the stack trace)")
    assert failure_line(KeyError("x"), verbose=True) == "error: KeyError: 'x'"


@pytest.mark.e2e
def test_a_run_whose_component_fails_unexpectedly_exits_3(tmp_path):
    """A feature declared numeric over the schema's text column: no input check knows this
    mismatch, so Transform's TensorFlow graph fails, a failure rather than an input error."""
    data = slice_spans(tmp_path / "data", 200, spans=(1,))
    config = taxi_config(tmp_path / "c.toml", data, train_steps=10, eval_steps=2)
    text = config.read_text()
    categorical = ('name = "company"\nkind = "categorical"\ntop_k = 100\noov_buckets = 5\n'
                   'encoding = "embedding"\nembedding_dim = 8')
    assert categorical in text
    config.write_text(text.replace(categorical, 'name = "company"\nkind = "numeric"'))
    result = run_cli("run", "--config", str(config), "--workspace", str(tmp_path / "ws"))
    assert result.returncode == 3, result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: run failed in Transform: ValueError: ")
    assert last.endswith(" (--verbose for the stack trace)")
    assert "Traceback" not in result.stderr
    assert re.search(r"^\s*Transform\s+failed\b", result.stdout, re.M)
