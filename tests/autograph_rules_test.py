"""AutoGraph leaves Keras 2 (tf_keras) alone once the rule is added, as it does `keras`."""

import tensorflow as tf
from tensorflow.python.autograph.impl import conversion

from models import autograph_rules


def test_tf_keras_layer_calls_are_not_converted_and_the_rule_is_added_once():
    dense_call = tf.keras.layers.Dense.__call__
    assert tf.keras.layers.Dense.__module__.startswith("tf_keras.")  # Keras 2, as TFX needs
    autograph_rules.skip_tf_keras()
    autograph_rules.skip_tf_keras()
    assert conversion.is_allowlisted(dense_call)
    from tensorflow.python.autograph.core import config

    rules = [r for r in config.CONVERSION_RULES
             if getattr(r, "_prefix", None) == autograph_rules.SKIPPED_PACKAGE]
    assert len(rules) == 1


def test_user_code_is_still_converted():
    autograph_rules.skip_tf_keras()

    def user_function(x):
        return x

    assert not conversion.is_allowlisted(user_function)
