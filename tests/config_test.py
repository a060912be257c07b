"""Config loading: the shipped config loads, and mistakes are named with file and key."""

from pathlib import Path

import pytest

from models.features import BUCKETIZED, CATEGORICAL, EMBEDDING, NUMERIC
from pipeline import config as config_lib
from pipeline.dataset.spans import check_columns, select_span
from pipeline.errors import DataError
from tests.conftest import TAXI_CONFIG, slice_spans, taxi_config


def test_default_config_loads_with_paths_relative_to_the_file():
    config = config_lib.load(TAXI_CONFIG)
    assert config.name == "taxi"
    assert config.data_root == (TAXI_CONFIG.parent / "../data/taxi").resolve()
    assert config.schema.is_file()
    assert config.features.label.name == "big_tipper" and config.features.label.is_binary
    kinds = {f.kind for f in config.features.features}
    assert kinds == {NUMERIC, CATEGORICAL, BUCKETIZED}
    assert any(f.encoding == EMBEDDING for f in config.features.features)
    assert [m.name for m in config.evaluation.metrics] == ["AUC", "BinaryAccuracy"]
    assert "--direct_running_mode=in_memory" in config.beam.pipeline_args()


def test_overrides_replace_config_values(tmp_path):
    config = config_lib.load(TAXI_CONFIG).with_overrides(
        data_root=tmp_path, span=2, workspace=tmp_path / "ws")
    assert (config.data_root, config.span, config.workspace) == (tmp_path, 2, tmp_path / "ws")
    assert config.metadata_path == tmp_path / "ws" / "metadata.sqlite"


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    path = taxi_config(tmp_path / "edited.toml", tmp_path / "data")
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize("old,new,expected", [
    ('kind = "numeric"', 'kind = "nums"', "unknown kind 'nums' for feature 'fare'"),
    ('encoding = "embedding"', 'encoding = "hash"', "unknown encoding 'hash'"),
    ('num_classes = 2', 'num_classes = 1', "[label.num_classes] must be at least 2"),
    ('train_steps = 300', 'train_steps = "many"', "[training.train_steps] expected int"),
    ('[training]', '[training]\nepochs = 3', "unknown key(s) epochs"),
    ('slices = ["trip_start_hour"]', 'slices = ["weekday"]', "not a feature: weekday"),
    ('max_examples = 50000', 'max_examples = -1', "[evaluation.max_examples] -1 is negative"),
    ('name = "big_tipper"', 'name = "fare"', "the label 'fare' is also a feature"),
])
def test_config_errors_name_file_and_key(tmp_path, old, new, expected):
    path = _edited(tmp_path, old, new)
    with pytest.raises(config_lib.ConfigError) as error:
        config_lib.load(path)
    assert str(path.resolve()) in str(error.value)
    assert expected in str(error.value)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(config_lib.ConfigError, match="config file not found"):
        config_lib.load(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[pipeline\nname=")
    with pytest.raises(config_lib.ConfigError, match="not valid TOML"):
        config_lib.load(broken)


def test_a_feature_missing_from_the_data_is_named_with_the_file(tmp_path):
    data = slice_spans(tmp_path / "data", 20, spans=(1,))
    path = _edited(tmp_path, 'name = "trip_miles"', 'name = "trip_km"')
    config = config_lib.load(path)
    span = select_span(config.data_root, None)
    with pytest.raises(DataError) as error:
        check_columns(span, config.features)
    assert "feature 'trip_km' is not a column" in str(error.value)
    assert str(data / "span-1" / "data.csv") in str(error.value)


def test_a_label_not_in_the_data_is_named(tmp_path):
    slice_spans(tmp_path / "data", 20, spans=(1,))
    config = config_lib.load(_edited(tmp_path, 'name = "big_tipper"', 'name = "tipped"'))
    with pytest.raises(DataError, match="label 'tipped' is not a column"):
        check_columns(select_span(config.data_root, None), config.features)


def test_span_selection(tmp_path):
    slice_spans(tmp_path, 5, spans=(1, 2))
    assert select_span(tmp_path, None).number == 2
    assert select_span(tmp_path, 1).number == 1
    with pytest.raises(DataError, match="no span 7 \\(spans present: 1, 2\\)"):
        select_span(tmp_path, 7)
    with pytest.raises(DataError, match="is not a folder"):
        select_span(tmp_path / "nowhere", None)


def test_serving_defaults_and_bad_sample_rate(tmp_path):
    config = config_lib.load()
    assert config.serving.log_sample_rate == 0.1
    assert config.request_log_dir == config.workspace / "request_logs" / "taxi"
    text = (config_lib.DEFAULT_CONFIG.read_text()
            .replace("log_sample_rate = 0.1", "log_sample_rate = 1.5")
            .replace('"../', f'"{config_lib.DEFAULT_CONFIG.parent.parent}/'))
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(config_lib.ConfigError, match=r"\[serving.log_sample_rate\] must be in \[0, 1\]"):
        config_lib.load(path)
