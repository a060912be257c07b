"""ML Metadata: the store connection, the one walker over its events and contexts, and crash recovery."""
