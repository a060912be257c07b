"""Exit statuses and the input errors behind status 2, shared by every command.

A user's mistake (a bad config, missing or malformed data, a busy workspace) exits 2
with one line; anything else is a bug or an outage and exits 3. Reports (drift, skew,
lineage, check) and a run stopped by its own checks use 1 for a finding.
"""

from __future__ import annotations

from components.errors import first_line  # noqa: F401  (re-exported for the commands)

EXIT_OK, EXIT_FINDING, EXIT_INPUT, EXIT_FAILURE = 0, 1, 2, 3


class DataError(ValueError):
    """Input data the pipeline cannot run on; the message names the file or folder."""
