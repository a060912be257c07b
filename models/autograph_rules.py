"""Keeps AutoGraph from re-converting Keras 2 (tf_keras) on every trace.

AutoGraph skips modules named `keras` and `tensorflow`, but TF 2.16 predates Keras 2
living in its own `tf_keras` package, so every layer call inside a traced function (the
Keras train step, the serving signatures) had its Python source parsed and rewritten
again before the first training step. tf_keras is library code that AutoGraph never
needs to rewrite; the one rule below makes it behave as it did when Keras lived inside
TensorFlow.
"""

from __future__ import annotations

from tensorflow.python.autograph.core import config as autograph_config

SKIPPED_PACKAGE = "tf_keras"


def skip_tf_keras() -> None:
    """Idempotent: adds the rule once, ahead of the rules that would convert."""
    rules = autograph_config.CONVERSION_RULES
    if any(isinstance(rule, autograph_config.DoNotConvert)
           and getattr(rule, "_prefix", None) == SKIPPED_PACKAGE for rule in rules):
        return
    autograph_config.CONVERSION_RULES = (
        autograph_config.DoNotConvert(SKIPPED_PACKAGE),) + rules
