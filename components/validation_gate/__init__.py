"""A gate that stops the pipeline before Transform when validation found anomalies."""
