"""The lineage scenario and its assertions, shared by the SQLite and the database-server
tests so both backends answer the same questions the same way.

Scenario: span 1 is run, then span 2, then span 2 again (a cached re-run). Each answer
is read through `python -m pipeline lineage ... --format json`, as a user or a script
would, and checked against what the runs left in the workspace.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from components.versioned_pusher.versions import versions
from pipeline import config as config_lib
from pipeline.factory import components_fingerprint
from tests.conftest import TAXI_SCHEMA, run_cli, slice_spans, taxi_config

ROWS_PER_SPAN = 1500
TRAINED_ON_DATA = ("CsvExampleGen", "StatisticsGen", "Transform", "Trainer")


class LineageScenario:
    def __init__(self, root: Path, metadata_toml: str = ""):
        self.data = slice_spans(root / "data", ROWS_PER_SPAN, spans=(1, 2))
        self.config_path = taxi_config(root / "taxi.toml", self.data, train_steps=100,
                                       eval_steps=10)
        if metadata_toml:
            text = self.config_path.read_text(encoding="utf-8")
            start = text.index("[metadata]")
            self.config_path.write_text(text[:start] + metadata_toml, encoding="utf-8")
        self.workspace = root / "workspace"
        self.config = config_lib.load(self.config_path).with_overrides(workspace=self.workspace)
        self.first = self.run(1)
        self.first_versions = self.serving_versions()
        self.second = self.run(2)
        self.second_versions = self.serving_versions()
        self.rerun = self.run(2, "--rerun")  # through TFX's cache, not the no-change answer

    def run(self, span: int, *extra: str) -> subprocess.CompletedProcess:
        result = run_cli("run", "--config", str(self.config_path), "--workspace",
                         str(self.workspace), "--span", str(span), *extra)
        assert result.returncode == 0, result.stderr[-3000:]
        return result

    def lineage(self, *args: str, output_format: str = "json") -> subprocess.CompletedProcess:
        return run_cli("lineage", *args, "--config", str(self.config_path), "--workspace",
                       str(self.workspace), "--format", output_format, timeout=300)

    def answer(self, *args: str) -> dict:
        result = self.lineage(*args)
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout)

    def serving_versions(self) -> list[int]:
        return versions(str(self.config.serving_dir))

    def version_dir(self, version: int) -> Path:
        return self.config.serving_dir / str(version)


# ---------------------------------------------------------------- the assertions


def check_latest_model_names_the_second_span(scenario: LineageScenario) -> None:
    answer = scenario.answer("model", "--latest")
    assert answer["kind"] == "model" and answer["format_version"] == 1
    [second_version] = set(scenario.second_versions) - set(scenario.first_versions)
    push = answer["push"]
    assert push["facts"]["pushed"] is True
    assert Path(push["facts"]["destination"]) == scenario.version_dir(second_version)
    assert push["execution"]["component"] == "VersionedPusher"
    examples = answer["examples"]["facts"]
    assert examples["span"] == 2
    assert sum(examples["rows"].values()) == ROWS_PER_SPAN
    assert set(examples["rows"]) == {"train", "eval"}
    assert examples["input_fingerprint"].startswith("split:")
    training = answer["training"]
    assert training["execution"]["component"] == "Trainer"
    assert training["facts"]["train_steps"] == 100 and training["facts"]["eval_steps"] == 10
    assert training["facts"]["code_fingerprint"] == components_fingerprint()
    assert answer["transform"]["artifacts"]["transform_graph"]["type"] == "TransformGraph"
    assert answer["schema"]["execution"]["component"] == "ImportSchemaGen"
    assert Path(answer["schema"]["facts"]["schema_file"]) == TAXI_SCHEMA
    assert answer["validation"]["facts"]["anomalies"] == []
    assert answer["validation"]["artifacts"]["statistics"]["type"] == "ExampleStatistics"
    evaluation = answer["evaluation"]["facts"]
    assert evaluation["blessed"] is True
    assert 0.5 < evaluation["metrics"]["auc"] <= 1.0
    # The Evaluator scored EvalSample's output: here the whole eval split.
    assert answer["evaluation"]["artifacts"]["scored_examples"]["type"] == "Examples"
    assert evaluation["scored_examples"] == evaluation["eval_split_examples"] == (
        answer["examples"]["facts"]["rows"]["eval"])
    # The second model was compared with the first, which was serving at the time.
    first_model = scenario.answer("model", str(scenario.version_dir(
        scenario.first_versions[-1])))
    baseline = evaluation["baseline_model"]
    assert baseline["id"] == first_model["training"]["artifacts"]["model"]["id"]
    assert baseline["pushed_version"] == str(scenario.first_versions[-1])
    assert first_model["examples"]["facts"]["span"] == 1
    assert first_model["evaluation"]["facts"]["baseline_model"] is None


def check_pushed_path_and_latest_agree(scenario: LineageScenario) -> None:
    by_path = scenario.answer("model", str(scenario.version_dir(scenario.second_versions[-1])))
    latest = scenario.answer("model", "--latest")
    assert by_path == latest


def check_span_lists_the_models_trained_on_it(scenario: LineageScenario) -> None:
    first = scenario.answer("span", "1")
    assert first["kind"] == "span" and first["span"] == 1
    first_model = scenario.answer("model", str(scenario.version_dir(
        scenario.first_versions[-1])))
    [model] = first["models"]
    assert model["model"]["id"] == first_model["training"]["artifacts"]["model"]["id"]
    assert model["blessed"] is True and model["pushed"] is True
    assert [Path(p["destination"]) for p in model["pushes"] if p["pushed"]] == [
        scenario.version_dir(scenario.first_versions[-1])]
    # The second span's model is not downstream of span 1 (a baseline is not an input).
    second = scenario.answer("span", "2")
    [second_model] = second["models"]
    assert second_model["model"]["id"] != model["model"]["id"]
    # Ingested twice (the re-run was cached end to end): one Examples artifact, one
    # model, one push.
    assert len(second["examples"]) == 1
    assert [p["pushed"] for p in second_model["pushes"]] == [True]


def check_cached_rerun_appears_as_cached(scenario: LineageScenario) -> None:
    answer = scenario.answer("runs")
    assert answer["kind"] == "runs"
    runs = answer["runs"]
    assert len(runs) == 3
    assert [r["started"] <= r["finished"] for r in runs] == [True] * 3
    states = [{c["component"]: c["state"] for c in run["components"]} for run in runs]
    assert {states[0][node] for node in TRAINED_ON_DATA} == {"executed"}
    assert {states[1][node] for node in TRAINED_ON_DATA} == {"executed"}
    assert {states[2][node] for node in TRAINED_ON_DATA} == {"cached"}
    assert states[1]["ImportSchemaGen"] == "cached"  # same schema file as run 1
    assert [r["state"] for r in runs] == ["complete"] * 3
    # Each run's page, recorded with the run in whichever store backs the workspace.
    assert [Path(r["report"]).name for r in runs] == ["report.html"] * 3
    assert len({r["report"] for r in runs}) == 3 and all(Path(r["report"]).is_file()
                                                         for r in runs)


def check_text_output_is_a_tree(scenario: LineageScenario) -> None:
    result = scenario.lineage("model", "--latest", output_format="text")
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Pushed model ")
    assert any(line.startswith("├── Examples: ") for line in lines)
    assert any("span 2, version" in line for line in lines)
    assert any("BLESSED" in line for line in lines)
    assert any("scored: the whole eval split (" in line for line in lines)
    runs = scenario.lineage("runs", output_format="text")
    assert runs.stdout.count("cached") >= len(TRAINED_ON_DATA)


def check_dot_renders_with_graphviz(scenario: LineageScenario, tmp_path: Path) -> None:
    for question in (("model", "--latest"), ("span", "1"), ("runs",)):
        result = scenario.lineage(*question, output_format="dot")
        assert result.returncode == 0, result.stderr[-3000:]
        assert result.stdout.startswith("digraph lineage {")
        svg = tmp_path / f"{question[0]}.svg"
        rendered = subprocess.run(["dot", "-Tsvg", "-o", str(svg)], input=result.stdout,
                                  text=True, capture_output=True, timeout=60)
        assert rendered.returncode == 0, rendered.stderr
        text = svg.read_text(encoding="utf-8")
        assert "<svg" in text
        if question[0] == "model":
            for label in ("VersionedPusher", "Trainer", "Transform", "CsvExampleGen",
                          "ImportSchemaGen", "EvalSample", "Evaluator", "PushedModel"):
                assert f">{label}<" in text, label


def check_user_mistakes_exit_2_in_one_line(scenario: LineageScenario) -> None:
    for args, words in ((("span", "9"), "span 9 was never ingested"),
                        (("model", str(scenario.data)), "not a model pushed")):
        result = scenario.lineage(*args)
        assert result.returncode == 2, result.stderr[-3000:]
        assert words in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""


class LineageAssertions:
    """The assertions as tests; a module subclasses it as Test... with a `scenario`
    fixture for its backend."""

    def test_latest_model_names_the_second_span(self, scenario):
        check_latest_model_names_the_second_span(scenario)

    def test_pushed_path_and_latest_agree(self, scenario):
        check_pushed_path_and_latest_agree(scenario)

    def test_span_lists_the_models_trained_on_it(self, scenario):
        check_span_lists_the_models_trained_on_it(scenario)

    def test_cached_rerun_appears_as_cached(self, scenario):
        check_cached_rerun_appears_as_cached(scenario)

    def test_text_output_is_a_tree(self, scenario):
        check_text_output_is_a_tree(scenario)

    def test_dot_renders_with_graphviz(self, scenario, tmp_path):
        check_dot_renders_with_graphviz(scenario, tmp_path)

    def test_user_mistakes_exit_2_in_one_line(self, scenario):
        check_user_mistakes_exit_2_in_one_line(scenario)
