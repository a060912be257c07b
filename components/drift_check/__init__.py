"""DriftCheck: drift of the ingested span against the span before it (TFDV comparators)."""
