"""The Evaluator's baseline: the latest blessed model other than the candidate."""

from tfx.components.evaluator import constants
from tfx.types import standard_artifacts

from components.baseline_resolver import (BLESSING, CANDIDATE, MODEL, LatestBlessedOtherModelStrategy,
                               latest_blessed)


def model(artifact_id: int):
    artifact = standard_artifacts.Model()
    artifact.id = artifact_id
    return artifact


def blessing(model_id: int, blessed: bool):
    artifact = standard_artifacts.ModelBlessing()
    artifact.set_int_custom_property(constants.ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY, model_id)
    artifact.set_int_custom_property(constants.ARTIFACT_PROPERTY_BLESSED_KEY, int(blessed))
    return artifact


def resolve(models, blessings, candidate):
    return LatestBlessedOtherModelStrategy().resolve_artifacts(
        None, {MODEL: models, BLESSING: blessings, CANDIDATE: candidate})


def test_the_newest_blessed_model_wins_and_unblessed_ones_are_skipped():
    models = [model(1), model(2), model(3)]
    blessings = [blessing(1, True), blessing(2, True), blessing(3, False)]
    chosen, its_blessing = latest_blessed(models, blessings)
    assert [m.id for m in chosen] == [2]
    assert its_blessing[0].get_int_custom_property(
        constants.ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY) == 2


def test_a_blessed_candidate_is_not_its_own_baseline():
    """The re-run case: the candidate was blessed by the run before, so TFX's strategy
    would return it; this one returns the model served before it."""
    candidate = model(3)
    result = resolve([model(1), model(2), candidate],
                     [blessing(1, True), blessing(2, False), blessing(3, True)], [candidate])
    assert [m.id for m in result[MODEL]] == [1]
    assert [m.id for m in result[CANDIDATE]] == [3]


def test_no_other_blessed_model_means_no_baseline():
    candidate = model(1)
    result = resolve([candidate], [blessing(1, True)], [candidate])
    assert result[MODEL] == [] and result[BLESSING] == []
    assert resolve([], [], [candidate])[MODEL] == []
