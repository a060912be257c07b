"""The data root: span folders, the bundled taxi data and schema drafts for a new dataset."""
