"""What a run did, read back from ML Metadata and the artifacts: the run summary."""
