"""Thresholded metrics (accuracy, precision, recall, ...) counted from the calibration
histogram that TFMA already builds for AUC.

TFMA computes AUC from a calibration histogram (10,000 buckets of the prediction), but a
metric at a threshold, such as BinaryAccuracy at 0.5, from a confusion-matrix pass of its
own: a second per-example, per-slice Python loop over every scored example. On 50,000
examples and 25 slices that pass is a fifth of the Evaluator's time. When every threshold
falls on a bucket edge (0.5, 0.25, 0.3, ...) the histogram holds the same counts: TFMA's
`binary_confusion_matrices(use_histogram=True)` derives them (a prediction equal to the
threshold counts as negative, as in the exact pass); its metric classes just never ask for
it. The variants here do, and fall back to the exact pass for any other threshold and for
top-k or per-class sub-keys.

AUC itself is TFMA's, with the histogram filled by eval_histogram's combiner (as are
the variants'): `AUCFromFastHistogram`.

`pipeline.factory` names these classes (module `models.eval_metrics`) for the metrics
in `HISTOGRAM_BACKED`; the metric keys, and so the thresholds and reports, keep TFMA's
names (`binary_accuracy`, ...).
"""
from __future__ import annotations

import math
from typing import Optional

from tensorflow_model_analysis.metrics import binary_confusion_matrices
from tensorflow_model_analysis.metrics import calibration_histogram
from tensorflow_model_analysis.metrics import confusion_matrix_metrics
from tensorflow_model_analysis.metrics import metric_types

from models import eval_histogram


def on_bucket_edges(thresholds: list[float],
                    num_buckets: int = calibration_histogram.DEFAULT_NUM_BUCKETS) -> bool:
    """Whether each threshold is an edge of the histogram's equal-width buckets on [0, 1]."""
    return all(0.0 <= t <= 1.0 and math.isclose(t * num_buckets, round(t * num_buckets),
                                                abs_tol=1e-6) for t in thresholds)


class _FromCalibrationHistogram:
    """Mixin for a TFMA ConfusionMatrixMetric: matrices from the shared histogram."""

    def _metric_computations(self, thresholds=None, num_thresholds=None, top_k=None,
                             class_id=None, name=None, eval_config=None, model_name="",
                             output_name="", sub_key: Optional[metric_types.SubKey] = None,
                             aggregation_type=None, class_weights=None,
                             example_weighted=False, preprocessors=None, metric_key=None,
                             **kwargs) -> metric_types.MetricComputations:
        resolved = thresholds
        if resolved is None and num_thresholds is None:
            default = self._default_threshold()  # type: ignore[attr-defined]
            resolved = None if default is None else [default]
        if isinstance(resolved, (int, float)):
            resolved = [float(resolved)]
        if (top_k is not None or class_id is not None or sub_key is not None
                or num_thresholds is not None or not resolved
                or not on_bucket_edges(resolved)):
            # TFMA's own computation, with the arguments as given: it picks its defaults
            # itself (for a top-k sub-key the threshold is -inf, not 0.5).
            return super()._metric_computations(  # type: ignore[misc]
                thresholds=thresholds, num_thresholds=num_thresholds, top_k=top_k,
                class_id=class_id, name=name, eval_config=eval_config, model_name=model_name,
                output_name=output_name, sub_key=sub_key, aggregation_type=aggregation_type,
                class_weights=class_weights, example_weighted=example_weighted,
                preprocessors=preprocessors, metric_key=metric_key, **kwargs)
        key = metric_key or metric_types.MetricKey(
            name=name, model_name=model_name, output_name=output_name,
            example_weighted=example_weighted, aggregation_type=aggregation_type)
        computations = binary_confusion_matrices.binary_confusion_matrices(
            thresholds=resolved, eval_config=eval_config, model_name=model_name,
            output_name=output_name, aggregation_type=aggregation_type,
            class_weights=class_weights, example_weighted=example_weighted,
            preprocessors=preprocessors, use_histogram=True)
        matrices_key = computations[-1].keys[-1]

        def result(metrics):
            return {key: self._metric_value(  # type: ignore[attr-defined]
                key=key, matrices=metrics[matrices_key], **kwargs)}

        computations.append(metric_types.DerivedMetricComputation(keys=[key], result=result))
        return eval_histogram.fast(computations)


class BinaryAccuracyFromHistogram(_FromCalibrationHistogram,
                                  confusion_matrix_metrics.BinaryAccuracy):
    pass


class PrecisionFromHistogram(_FromCalibrationHistogram, confusion_matrix_metrics.Precision):
    pass


class RecallFromHistogram(_FromCalibrationHistogram, confusion_matrix_metrics.Recall):
    pass


class SpecificityFromHistogram(_FromCalibrationHistogram,
                               confusion_matrix_metrics.Specificity):
    pass


class F1ScoreFromHistogram(_FromCalibrationHistogram, confusion_matrix_metrics.F1Score):
    pass


class AUCFromFastHistogram(confusion_matrix_metrics.AUC):
    """TFMA's AUC, its histogram filled by eval_histogram's combiner."""

    # TFMA passes each computation function only the arguments its signature names, so
    # this one names them all, as the base class's does.
    def _metric_computations(self, thresholds=None, num_thresholds=None, top_k=None,
                             class_id=None, name=None, eval_config=None, model_name="",
                             output_name="", sub_key=None, aggregation_type=None,
                             class_weights=None, example_weighted=False, preprocessors=None,
                             metric_key=None, **kwargs) -> metric_types.MetricComputations:
        return eval_histogram.fast(super()._metric_computations(
            thresholds=thresholds, num_thresholds=num_thresholds, top_k=top_k,
            class_id=class_id, name=name, eval_config=eval_config, model_name=model_name,
            output_name=output_name, sub_key=sub_key, aggregation_type=aggregation_type,
            class_weights=class_weights, example_weighted=example_weighted,
            preprocessors=preprocessors, metric_key=metric_key, **kwargs))


# TFMA class name (as written in a config's [[evaluation.metrics]]) -> the variant here.
HISTOGRAM_BACKED = {
    "AUC": AUCFromFastHistogram.__name__,
    "BinaryAccuracy": BinaryAccuracyFromHistogram.__name__,
    "Precision": PrecisionFromHistogram.__name__,
    "Recall": RecallFromHistogram.__name__,
    "Specificity": SpecificityFromHistogram.__name__,
    "F1Score": F1ScoreFromHistogram.__name__,
}
