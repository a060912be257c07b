"""Strict, fast CSV ingestion for ExampleGen: Arrow reading, clear errors, personal data rules."""
