"""The histogram-backed thresholded metrics give TFMA's exact figures, on every slice, in
one pass with AUC (real TFMA on a DataFrame of labels and predictions)."""
import numpy as np
import pandas as pd
import pytest
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.metrics import metric_specs, metric_types

from models import eval_metrics
from pipeline import config as config_lib
from pipeline import factory

CONFIG = config_lib.load(config_lib.DEFAULT_CONFIG)


def _frame(rows: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    prediction = rng.random(rows)
    # Predictions exactly on the thresholds: the exact pass counts them as negative.
    prediction[:40] = 0.5
    prediction[40:60] = 0.3
    label = (rng.random(rows) < prediction).astype(np.int64)
    label[::7] = 1 - label[::7]
    return pd.DataFrame({"prediction": prediction, "label": label,
                         "hour": rng.integers(0, 6, rows)})


def _metrics(frame: pd.DataFrame, metrics: list[tfma.MetricConfig]) -> dict:
    config = tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(prediction_key="prediction", label_key="label")],
        slicing_specs=[tfma.SlicingSpec(), tfma.SlicingSpec(feature_keys=["hour"])],
        metrics_specs=[tfma.MetricsSpec(metrics=metrics)])
    result = tfma.analyze_raw_data(frame, config)
    return {key: {name: _numbers(value) for name, value in by_name[""][""].items()}
            for key, by_name in result.slicing_metrics}


def _numbers(value: dict) -> list[float]:
    """A metric's value(s): one double, or the array of a metric at several thresholds."""
    if "doubleValue" in value:
        return [value["doubleValue"]]
    return [float(v) for v in value["arrayValue"]["float64Values"]]


@pytest.mark.parametrize("tfma_name, config_json", [
    ("BinaryAccuracy", ""),
    ("BinaryAccuracy", '{"threshold": 0.3}'),
    ("Precision", ""),
    ("Recall", '{"thresholds": [0.25, 0.5]}'),
    ("Specificity", ""),
    ("F1Score", ""),
])
def test_same_figures_as_tfma_on_every_slice(tfma_name, config_json):
    frame = _frame()
    histogram_backed = tfma.MetricConfig(class_name=eval_metrics.HISTOGRAM_BACKED[tfma_name],
                                         module=eval_metrics.__name__, config=config_json)
    ours = _metrics(frame, [tfma.MetricConfig(class_name="AUC"), histogram_backed])
    exact = _metrics(frame, [tfma.MetricConfig(class_name="AUC"),
                             tfma.MetricConfig(class_name=tfma_name, config=config_json)])
    assert len(exact) == 7  # overall + 6 hours
    assert ours.keys() == exact.keys()
    for slice_key, figures in exact.items():
        assert ours[slice_key].keys() == figures.keys(), slice_key
        for name, value in figures.items():
            assert ours[slice_key][name] == pytest.approx(value, abs=1e-12), (slice_key, name)
    values_per_metric = max(len(values) for values in exact[()].values())
    assert values_per_metric == (2 if "thresholds" in config_json else 1)


def _computations(metrics: list[tfma.MetricConfig],
                  binarize: tfma.BinarizationOptions = None) -> list:
    return metric_specs.to_computations(
        [tfma.MetricsSpec(metrics=metrics, binarize=binarize)],
        tfma.EvalConfig(model_specs=[tfma.ModelSpec(label_key="label")]))


def _passes(metric: tfma.MetricConfig) -> int:
    """Per-example computations (not derived from others) TFMA runs for AUC plus `metric`."""
    return len({c.keys[0] for c in _computations([tfma.MetricConfig(class_name="AUC"), metric])
                if not isinstance(c, (metric_types.DerivedMetricComputation,
                                      metric_types.CrossSliceMetricComputation))})


def test_accuracy_shares_the_auc_histogram():
    assert _passes(tfma.MetricConfig(class_name="BinaryAccuracy")) == 2
    assert _passes(tfma.MetricConfig(class_name="BinaryAccuracyFromHistogram",
                                     module=eval_metrics.__name__)) == 1


def test_off_edge_threshold_falls_back_to_the_exact_pass():
    assert not eval_metrics.on_bucket_edges([0.123456])
    assert eval_metrics.on_bucket_edges([0.0, 0.25, 0.5, 0.3, 1.0])
    assert _passes(tfma.MetricConfig(class_name="BinaryAccuracyFromHistogram",
                                     module=eval_metrics.__name__,
                                     config='{"threshold": 0.123456}')) == 2


def test_factory_names_the_histogram_variant_with_the_threshold():
    by_class = {m.class_name: m for m in factory.eval_config(CONFIG).metrics_specs[0].metrics}
    accuracy = by_class["BinaryAccuracyFromHistogram"]
    assert accuracy.module == "models.eval_metrics"
    assert accuracy.per_slice_thresholds[0].threshold.value_threshold.lower_bound.value == 0.6
    assert "AUCFromFastHistogram" in by_class and not {"AUC", "BinaryAccuracy"} & set(by_class)


def _computation_keys(metric: tfma.MetricConfig, binarize: tfma.BinarizationOptions):
    return sorted(str(key) for c in _computations([metric], binarize) for key in c.keys)


@pytest.mark.parametrize("binarize", [tfma.BinarizationOptions(top_k_list={"values": [1]}),
                                      tfma.BinarizationOptions(class_ids={"values": [0, 1]})])
def test_per_class_and_top_k_sub_keys_compute_exactly_what_tfma_does(binarize):
    """The fallback passes TFMA's own arguments on: a top-k sub-key keeps TFMA's -inf
    default threshold, not the binary 0.5."""
    ours = _computation_keys(tfma.MetricConfig(class_name="BinaryAccuracyFromHistogram",
                                               module=eval_metrics.__name__), binarize)
    tfma_own = _computation_keys(tfma.MetricConfig(class_name="BinaryAccuracy"), binarize)
    assert ours == tfma_own
