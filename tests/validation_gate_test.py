"""The gate's executor on anomalies written here: stops with each anomaly, or passes the schema."""

import os

import pytest
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx.types import artifact_utils, standard_artifacts

from components.validation_gate import executor


def anomalies_artifact(root, per_split):
    artifact = standard_artifacts.ExampleAnomalies()
    artifact.uri = str(root / "anomalies")
    artifact.split_names = artifact_utils.encode_split_names(list(per_split))
    for split, features in per_split.items():
        proto = anomalies_pb2.Anomalies()
        for feature, kind in features:
            info = proto.anomaly_info[feature]
            info.description = f"{feature} went wrong"
            info.reason.add(type=kind)
        path = os.path.join(artifact_utils.get_split_uri([artifact], split))
        os.makedirs(path)
        with open(os.path.join(path, "SchemaDiff.pb"), "wb") as handle:
            handle.write(proto.SerializeToString())
    return artifact


def schema_artifact(root):
    schema = standard_artifacts.Schema()
    schema.uri = str(root / "schema")
    os.makedirs(schema.uri)
    with open(os.path.join(schema.uri, "schema.pbtxt"), "w") as handle:
        handle.write('feature { name: "fare" type: FLOAT }\n')
    return schema


def run_gate(root, anomalies, splits='["train", "eval"]'):
    out = standard_artifacts.Schema()
    out.uri = str(root / "validated")
    os.makedirs(out.uri)
    executor.Executor().Do({"schema": [schema_artifact(root)], "anomalies": [anomalies]},
                           {"validated_schema": [out]}, {"splits": splits})
    return out


def test_clean_splits_pass_the_schema_on(tmp_path):
    out = run_gate(tmp_path, anomalies_artifact(tmp_path, {"train": [], "eval": []}))
    assert "fare" in open(os.path.join(out.uri, "schema.pbtxt")).read()


def test_an_anomaly_in_train_stops_with_feature_type_and_description(tmp_path):
    anomalies = anomalies_artifact(tmp_path, {
        "train": [("fare", anomalies_pb2.AnomalyInfo.UNEXPECTED_DATA_TYPE)], "eval": []})
    with pytest.raises(executor.AnomaliesFound) as error:
        run_gate(tmp_path, anomalies)
    assert "[train] fare: UNEXPECTED_DATA_TYPE: fare went wrong" in str(error.value)
    assert not os.listdir(tmp_path / "validated")


def test_only_the_gated_splits_count(tmp_path):
    anomalies = anomalies_artifact(tmp_path, {
        "train": [], "eval": [("company", anomalies_pb2.AnomalyInfo.ENUM_TYPE_UNEXPECTED_STRING_VALUES)]})
    run_gate(tmp_path, anomalies, splits='["train"]')
