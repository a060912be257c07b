"""TFDV statistics of CSV/TFRecord data, in this process for small inputs and with
Beam above a size limit (compute.py); the files read as ingestion reads them (sources.py)."""
