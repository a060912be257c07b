"""The harness's own judgement: task order and resolver filters (no pipeline run)."""

import pytest

from tests import kfp_harness
from tests.kfp_harness import Artifact

def test_tasks_run_after_their_dependencies_and_artifact_producers():
    tasks = {"c": {"inputs": {"artifacts": {"x": {"taskOutputArtifact": {
                 "producerTask": "b", "outputArtifactKey": "x"}}}}},
             "b": {"dependentTasks": ["a"]}, "a": {}}
    assert kfp_harness.dag_order(tasks) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="cycle"):
        kfp_harness.dag_order({"a": {"dependentTasks": ["b"]}, "b": {"dependentTasks": ["a"]}})


def test_resolver_filters_match_type_metadata_and_names_from_the_inputs():
    blessed = Artifact("run-1/E/blessing", "tfx.ModelBlessing", "s3://b/1",
                       {"blessed": 1.0, "current_model_id": "run-1/T/model"}, "E")
    unblessed = Artifact("run-2/E/blessing", "tfx.ModelBlessing", "s3://b/2", {"blessed": 0.0}, "E")
    model = Artifact("run-1/T/model", "tfx.Model", "s3://b/m", {}, "T")
    query = 'schema_title="tfx.ModelBlessing" AND state=LIVE AND metadata.blessed.number_value=1'
    assert [a for a in (blessed, unblessed, model)
            if kfp_harness.matches_filter(query, a, {})] == [blessed]
    by_name = ('schema_title="tfx.Model" AND state=LIVE AND '
               'name="{{$.inputs.artifacts[\'input\'].metadata[\'current_model_id\']}}"')
    assert kfp_harness.matches_filter(by_name, model, {"input": [blessed]})
    assert not kfp_harness.matches_filter(by_name, model, {"input": []})
    with pytest.raises(ValueError, match="not emulated"):
        kfp_harness.matches_filter("create_time > 3", model, {})
