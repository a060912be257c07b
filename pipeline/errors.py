"""Exit statuses and the input errors behind status 2, shared by every command.

A user's mistake (a bad config, missing or malformed data, a busy workspace) exits 2
with one line; anything else is a bug or an outage and exits 3. Reports (drift, skew,
lineage, check) and a run stopped by its own checks use 1 for a finding.
"""

from __future__ import annotations

from components.errors import InputError, first_line  # noqa: F401  (re-exported for the commands)

EXIT_OK, EXIT_FINDING, EXIT_INPUT, EXIT_FAILURE = 0, 1, 2, 3


class DataError(InputError, ValueError):
    """Input data the pipeline cannot run on; the message names the file or folder."""


class ComponentFailed(RuntimeError):
    """A component's unexpected failure (a bug or an outage) during a run: exits 3."""


def component_failure(error: BaseException, component: str | None) -> Exception:
    """The error `run` reports when `component` raised `error`: the component's own
    input error stays an input error (exit 2), anything else is a failure (exit 3)."""
    if isinstance(error, InputError):  # before any component: the pre-flight checks
        return DataError(f"run failed in {component}: {first_line(error)}" if component
                         else first_line(error))
    where = f" in {component}" if component else ""
    return ComponentFailed(f"run failed{where}: {type(error).__name__}: {first_line(error)}")


def failure_line(error: BaseException, verbose: bool) -> str:
    """The one line an unexpected failure prints, with the hint to see its stack trace."""
    text = str(error) if isinstance(error, ComponentFailed) else (
        f"{type(error).__name__}: {first_line(error)}")
    return f"error: {text}" + ("" if verbose else " (--verbose for the stack trace)")
