"""eval_histogram's combiner builds TFMA's calibration histogram to the bit, taking its
direct path exactly where TFMA's routine would yield (label, prediction, 1.0)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.metrics import calibration_histogram, metric_specs
from tensorflow_model_analysis.metrics import metric_types

from models import eval_histogram, eval_metrics

CONFIG = tfma.EvalConfig(model_specs=[tfma.ModelSpec(label_key="label")])
Inputs = metric_types.StandardMetricInputs


def combiners(model_name: str = "", example_weighted: bool = False, config=CONFIG):
    (tfma_computation,) = calibration_histogram.calibration_histogram(
        eval_config=config, model_name=model_name, example_weighted=example_weighted)
    (ours,) = eval_histogram.fast([tfma_computation])
    assert type(ours.combiner) is eval_histogram.FastHistogramCombiner
    assert ours.keys == tfma_computation.keys
    return tfma_computation.combiner, ours.combiner


def histogram(combiner, elements) -> list:
    accumulator = combiner.create_accumulator()
    for element in elements:
        accumulator = combiner.add_input(accumulator, element)
    return [dataclasses.astuple(b) for b in combiner.extract_output(accumulator).popitem()[1]]


def binary_inputs(rows: int = 2000, shape=(1,)):
    rng = np.random.default_rng(3)
    predictions = rng.random(rows).astype(np.float32)
    predictions[:30] = [0.0, 1.0, 0.5, 0.25, 1.5, -0.5] * 5  # edges and outside [0, 1]
    labels = (rng.random(rows) < predictions).astype(np.int64)
    return [Inputs(label=np.array([label]), prediction=np.array(p).reshape(shape))
            for label, p in zip(labels, predictions)]


@pytest.mark.parametrize("shape", [(1,), (1, 1)], ids=["flat", "nested"])
def test_binary_examples_take_the_direct_path_to_tfmas_histogram(shape):
    theirs, ours = combiners()
    elements = binary_inputs(shape=shape)
    assert all(ours._binary(e) is not None for e in elements)  # noqa: SLF001
    assert histogram(ours, elements) == histogram(theirs, elements)


def test_a_models_value_is_looked_up_as_tfma_does():
    theirs, ours = combiners(model_name="candidate")
    elements = [Inputs(label=e.label, prediction={"candidate": e.prediction,
                                                  "baseline": np.array([0.5])})
                for e in binary_inputs(500)]
    assert ours._binary(elements[0]) is not None  # noqa: SLF001
    assert histogram(ours, elements) == histogram(theirs, elements)


@pytest.mark.parametrize("element", [
    Inputs(label=np.array([0.25]), prediction=np.array([0.7])),  # a fractional label
    Inputs(label=np.array([1]), prediction={"logistic": np.array([0.7])}),
    Inputs(label=np.array([1, 0]), prediction=np.array([0.7, 0.2])),
    Inputs(label=np.array([b"yes"]), prediction=np.array([0.7])),
], ids=["fractional", "estimator-dict", "two-values", "string-label"])
def test_anything_else_goes_through_tfmas_routine(element):
    theirs, ours = combiners()
    assert ours._binary(element) is None  # noqa: SLF001
    try:
        expected = histogram(theirs, [element])
    except (ValueError, TypeError) as error:
        with pytest.raises(type(error)):
            histogram(ours, [element])
    else:
        assert histogram(ours, [element]) == expected


def test_weighted_examples_go_through_tfmas_routine():
    theirs, ours = combiners(example_weighted=True)
    elements = [Inputs(label=e.label, prediction=e.prediction, example_weight=np.array([2.5]))
                for e in binary_inputs(200)]
    assert ours._binary(elements[0]) is None  # noqa: SLF001
    assert histogram(ours, elements) == histogram(theirs, elements)


@pytest.mark.parametrize("class_name", ["AUC", "BinaryAccuracy"])
def test_the_configured_metrics_fill_the_fast_histogram(class_name):
    metric = tfma.MetricConfig(class_name=eval_metrics.HISTOGRAM_BACKED[class_name],
                               module=eval_metrics.__name__)
    computations = metric_specs.to_computations([tfma.MetricsSpec(metrics=[metric])], CONFIG)
    histograms = [c for c in computations if isinstance(
        getattr(c, "combiner", None), calibration_histogram._CalibrationHistogramCombiner)]  # noqa: SLF001
    assert histograms and all(type(c.combiner) is eval_histogram.FastHistogramCombiner
                              for c in histograms)
