"""The command of every compiled Kubeflow step: `python -m components.container_entrypoint
MODULE ARGS...` runs MODULE (TFX's executor launcher, or ExampleGen's driver) as `python -m
MODULE ARGS...` would, then ends the process with os._exit.

tensorflow-io's S3 filesystem aborts the interpreter during its teardown ("pure virtual
method called", SIGABRT) after the step's work is done and its output metadata written,
so a pod would report a finished step as failed. Exiting once MODULE has returned skips
that teardown. MODULE's own outcome decides the status: SystemExit's code, 1 with the
traceback for an exception, 0 when it returns; so the status is the truth either way.
"""

from __future__ import annotations

import logging
import os
import runpy
import sys
import traceback


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: python -m components.container_entrypoint MODULE [ARGS...]",
              file=sys.stderr)
        return 2
    module, sys.argv = argv[1], [argv[1], *argv[2:]]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as done:
        return _status(done.code)
    except BaseException:  # noqa: BLE001  (reported, and the status says it failed)
        traceback.print_exc()
        return 1
    return 0


def _status(code) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


if __name__ == "__main__":
    status = main(sys.argv)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
