"""The transform's exact mapping of chosen raw values, asked of the transform layer itself.

The end-to-end TFLite file rebuilds the preprocessing from builtins, and reading the
analyzed values back from sampled rows is not enough to agree with tf.Transform:
a bucket boundary lies somewhere between two sampled values, and an out-of-vocabulary
value (a missing category too: the vocabulary drops the empty string) goes to a bucket
chosen by a string hash that no TFLite builtin computes. So the Trainer asks the
transform layer: bisection over float32 finds each boundary to the last bit, and the
ids of the out-of-vocabulary keys the model will meet are looked up, not guessed.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import tensorflow as tf

_SIGN = np.int64(0x80000000)
_MAGNITUDE = np.int64(0x7FFFFFFF)


class Probe:
    """Runs raw values of one feature through the transform layer.

    `batch` is a parsed raw batch (what the data accessor yields); the other features of
    a probe row are copied from its first row, since each output depends on its own input.
    """

    def __init__(self, transform_layer, batch: dict):
        self.layer, self.batch = transform_layer, batch

    def outputs(self, name: str, transformed: str, values: Sequence) -> np.ndarray:
        """The transformed output for each value (None: the value is missing)."""
        rows = len(values)
        if not rows:
            return np.zeros([0])
        probe = {key: _first_row(tensor, rows) for key, tensor in self.batch.items()}
        probe[name] = _column(self.batch[name], values)
        return np.asarray(self.layer(probe)[transformed]).reshape(-1)

    def boundaries(self, name: str, transformed: str, sample: np.ndarray) -> list[float]:
        """Every bucket boundary b (id = count(x >= b)) as the float32 where the id steps up."""
        points = np.unique(np.concatenate([
            sample[~np.isnan(sample)].astype(np.float32),
            np.array([np.finfo(np.float32).min, np.finfo(np.float32).max], np.float32)]))
        ids = self.outputs(name, transformed, points.tolist()).astype(np.int64)
        below, above, targets = [], [], []
        for i in np.flatnonzero(np.diff(ids) > 0):
            for target in range(ids[i] + 1, ids[i + 1] + 1):
                below.append(points[i]), above.append(points[i + 1]), targets.append(target)
        found = self._first_reaching(name, transformed, np.array(below, np.float32),
                                     np.array(above, np.float32), np.array(targets))
        return [float(np.finfo(np.float32).min)] * int(ids[0]) + [float(b) for b in found]

    def _first_reaching(self, name: str, transformed: str, below: np.ndarray,
                        above: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Per target id, the smallest float32 in (below, above] whose id reaches it."""
        low, high = _ordered(below), _ordered(above)
        while np.any(high - low > 1):
            middle = (low + high) // 2
            ids = self.outputs(name, transformed, _from_ordered(middle).tolist())
            reached = ids >= targets
            high, low = np.where(reached, middle, high), np.where(reached, low, middle)
        return _from_ordered(high)

    def ids(self, name: str, transformed: str, keys: Sequence) -> list[int]:
        """The transform's id of each key of a categorical feature."""
        return [int(i) for i in self.outputs(name, transformed, list(keys))]


def _ordered(values: np.ndarray) -> np.ndarray:
    """float32 as int64 in the same order, adjacent floats adjacent integers."""
    bits = values.astype(np.float32).view(np.int32).astype(np.int64)
    return np.where(bits < 0, -(bits & _MAGNITUDE), bits)


def _from_ordered(ordered: np.ndarray) -> np.ndarray:
    magnitude = np.abs(ordered)
    bits = np.where(ordered < 0, magnitude | _SIGN, magnitude).astype(np.uint32)
    return bits.view(np.float32)


def _first_row(tensor, rows: int):
    if isinstance(tensor, tf.SparseTensor):
        tensor = tf.sparse.to_dense(tensor)
        return tf.sparse.from_dense(tf.repeat(tensor[:1], rows, axis=0))
    return tf.repeat(tensor[:1], rows, axis=0)


def _column(template, values: Sequence):
    """`values` in the kind of tensor the batch holds for the feature, one per row."""
    dtype = template.dtype
    if dtype.is_integer:  # a bucketized integer feature is bisected over floats
        values = [_integer(v) if isinstance(v, float) else v for v in values]
    if not isinstance(template, tf.SparseTensor):
        shape = [len(values)] + [1] * (template.shape.rank - 1)
        return tf.reshape(tf.constant(list(values), dtype), shape)
    present = [i for i, value in enumerate(values) if value is not None]
    return tf.SparseTensor(
        indices=np.array([[i, 0] for i in present], np.int64).reshape(-1, 2),
        values=tf.constant([values[i] for i in present], dtype),
        dense_shape=[len(values), 1])


def _integer(value: float) -> int:
    return int(np.clip(np.floor(value), -(2 ** 62), 2 ** 62))
