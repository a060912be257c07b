"""TFMA's calibration histogram, with the common case of its per-example step done directly.

Every AUC and every histogram-backed thresholded metric (eval_metrics.py) reads one
calibration histogram per model and slice, and TFMA fills it one example at a time
through `to_label_prediction_example_weight`: a general routine (model and output
lookups, sub-keys, top-k, class weights, fractional labels) that builds several numpy
arrays per example to yield one (label, prediction, weight) triple, once per example and
slice: most of the histogram's time, and the histogram is the Evaluator's largest single
cost (docs/BENCHMARKS.md).

For an unweighted binary example (no class weights, sub-key, aggregation or output
name; a numeric label and prediction of one value each, a label of 0 or 1 where labels
are fractional) TFMA's routine yields exactly (float(label), float(prediction), 1.0);
`FastHistogramCombiner` computes that triple itself and adds it to the bucket as TFMA's
combiner adds it, in the same order, so the histogram is the same to the bit. Any other
example goes through TFMA's code.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
from tensorflow_model_analysis.metrics import calibration_histogram, metric_types

_NUMERIC = "iufb"


class FastHistogramCombiner(calibration_histogram._CalibrationHistogramCombiner):  # noqa: SLF001

    @classmethod
    def of(cls, combiner: calibration_histogram._CalibrationHistogramCombiner  # noqa: SLF001
           ) -> "FastHistogramCombiner":
        """TFMA's combiner with its settings, and whether they allow the direct path at
        all (they are the combiner's, the same for every example it adds)."""
        fast = cls.__new__(cls)
        fast.__dict__.update(combiner.__dict__)
        fast._direct = not (
            fast._example_weighted or fast._class_weights or fast._aggregation_type
            or fast._key.sub_key is not None or fast._key.output_name
            or (fast._eval_config is not None
                and any(spec.prediction_key for spec in fast._eval_config.model_specs)))
        return fast

    def add_input(self, accumulator, element: metric_types.StandardMetricInputs):
        triple = self._binary(element)
        if triple is None:
            return super().add_input(accumulator, element)
        label, prediction = triple
        index = self._bucket_index(prediction if self._prediction_based_bucketing else label)
        bucket = accumulator.get(index)
        if bucket is None:
            accumulator[index] = calibration_histogram.Bucket(index, label, prediction, 1.0)
        else:
            bucket.weighted_labels += label
            bucket.weighted_predictions += prediction
            bucket.weighted_examples += 1.0
        return accumulator

    def _binary(self, element) -> tuple[float, float] | None:
        """(label, prediction) when TFMA's routine would yield them with weight 1.0."""
        if not self._direct:
            return None
        label = _single(element.label, self._key.model_name)
        prediction = _single(element.prediction, self._key.model_name)
        if label is None or prediction is None:
            return None
        if self._fractional_labels and label not in (0.0, 1.0):
            return None
        return label, prediction


def _single(value, model_name: str) -> float | None:
    """The one numeric value of a label or prediction (after the model's lookup); None
    for anything else, which TFMA's routine then resolves (or rejects)."""
    if model_name and isinstance(value, Mapping):
        value = value.get(model_name)
    if not isinstance(value, np.ndarray) or value.size != 1 or value.dtype.kind not in _NUMERIC:
        return None
    return float(value.flat[0])


def fast(computations: metric_types.MetricComputations) -> metric_types.MetricComputations:
    """The computations with TFMA's histogram combiner replaced by FastHistogramCombiner."""
    result = []
    for computation in computations:
        combiner = getattr(computation, "combiner", None)
        if type(combiner) is calibration_histogram._CalibrationHistogramCombiner:  # noqa: SLF001
            computation = computation._replace(combiner=FastHistogramCombiner.of(combiner))
        result.append(computation)
    return result
