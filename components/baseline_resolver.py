"""Which model the Evaluator compares a candidate with: the latest blessed model that is
not the candidate itself.

TFX's LatestBlessedModelStrategy returns the latest blessed model, which after a run
that blessed a model is that very model. A re-run with nothing changed then gives the
Evaluator a new baseline (the candidate) and it evaluates the model against itself,
which can only pass and costs a full evaluation. Leaving the candidate out keeps the
baseline of the run that blessed it, so the unchanged re-run is cached end to end, and a
change of thresholds still re-evaluates against the model served before.

Kubeflow's v2 compiler accepts only TFX's built-in strategies, so the compiled pipeline
keeps LatestBlessedModelStrategy (see factory.create_pipeline).
"""

from __future__ import annotations

from typing import Dict, List, Optional

from tfx import types
from tfx.components.evaluator import constants as evaluator_constants
from tfx.dsl.components.common import resolver

MODEL, BLESSING, CANDIDATE = "model", "model_blessing", "candidate"


class LatestBlessedOtherModelStrategy(resolver.ResolverStrategy):
    """Input channels: `model` and `model_blessing` (all of them), `candidate` (the
    Trainer's output in this run). Output: the latest blessed model other than the
    candidate and its blessing, or none."""

    def resolve_artifacts(self, store, input_dict: Dict[str, List[types.Artifact]]
                          ) -> Optional[Dict[str, List[types.Artifact]]]:
        candidate = list(input_dict.get(CANDIDATE, []))
        excluded = {artifact.id for artifact in candidate}
        model, blessing = latest_blessed(
            [m for m in input_dict.get(MODEL, []) if m.id not in excluded],
            input_dict.get(BLESSING, []))
        return {MODEL: model, BLESSING: blessing, CANDIDATE: candidate}


def latest_blessed(models: List[types.Artifact], blessings: List[types.Artifact]
                   ) -> tuple[list, list]:
    """([model], [its blessing]) for the newest model with a positive blessing, else ([], [])."""
    blessing_of = {
        b.get_int_custom_property(evaluator_constants.ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY): b
        for b in blessings
        if b.get_int_custom_property(evaluator_constants.ARTIFACT_PROPERTY_BLESSED_KEY) == 1}
    for model in sorted(models, key=lambda m: m.id, reverse=True):
        if model.id in blessing_of:
            return [model], [blessing_of[model.id]]
    return [], []
