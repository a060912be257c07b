"""`python -m pipeline serve`: the latest pushed version over TF Serving's REST API, on
uvicorn. With `--workers N` uvicorn starts N processes (each loads the model); they
import the app by name, so the command's arguments reach them in one environment
variable, from which each rebuilds the same config.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from pipeline import config as config_lib
from pipeline.errors import EXIT_OK
from pipeline.serving.server import BACKENDS

ARGS_ENV = "CONVEYOR_SERVE_ARGS"  # the worker processes' copy of the command's arguments
log = logging.getLogger("conveyor.serve")


def register(commands) -> None:
    serve = commands.add_parser("serve", help="serve the latest pushed model with TF "
                                "Serving's REST API (hot-swapping newly pushed versions)")
    serve.add_argument("--config", type=Path, default=config_lib.DEFAULT_CONFIG)
    serve.add_argument("--workspace", type=Path)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8501)
    serve.add_argument("--backend", choices=BACKENDS, default="savedmodel")
    serve.add_argument("--workers", type=int, default=1, help="server processes")
    serve.set_defaults(handler=serve_command)


def serve_command(args: argparse.Namespace) -> int:
    import uvicorn

    if args.workers < 1:
        raise config_lib.ConfigError(f"--workers {args.workers}: must be at least 1")
    settings = {"config": str(Path(args.config).resolve()), "backend": args.backend,
                "workspace": str(Path(args.workspace).resolve()) if args.workspace else None}
    setup_logging()
    options = dict(host=args.host, port=args.port, access_log=False, log_level="info",
                   timeout_graceful_shutdown=10)
    if args.workers == 1:
        uvicorn.run(build_app(settings), **options)
    else:
        # Checked here first: a missing or broken model, or a request log that cannot
        # start, is one line and exit 2 before any worker starts.
        config, _ = load_registry(settings)
        if config.serving.log_sample_rate > 0:  # e.g. a missing pseudonymization key
            from pipeline.serving.request_encoding import RowEncoder

            RowEncoder.from_config(config)
        os.environ[ARGS_ENV] = json.dumps(settings)
        uvicorn.run("pipeline.serving.server.command:app_from_environment", factory=True,
                    workers=args.workers, **options)
    return EXIT_OK


def app_from_environment():
    """A worker process's app (uvicorn's factory)."""
    setup_logging()
    return build_app(json.loads(os.environ[ARGS_ENV]))


def build_app(settings: dict):
    from pipeline.serving.request_log import open_request_log
    from pipeline.serving.server.app import create_app

    config, registry = load_registry(settings)
    return create_app(config.name, registry, config.serving.max_body_kb * 1024,
                      request_log=open_request_log(config))


def load_registry(settings: dict):
    """The config and a registry serving the latest version that loads."""
    from pipeline.serving.server import backends
    from pipeline.serving.server.registry import Registry

    config = config_lib.load(Path(settings["config"])).with_overrides(
        workspace=Path(settings["workspace"]) if settings["workspace"] else None)
    label = config.features.label.name
    registry = Registry(str(config.serving_dir),
                        lambda path: backends.load(settings["backend"], path, label),
                        config.serving.poll_seconds)
    served = registry.load_initial()
    log.info("model %r version %s loaded (%s backend) from %s", config.name, served.version,
             settings["backend"], config.serving_dir)
    return config, registry


def setup_logging() -> None:
    """The CLI silences library loggers; the server's own lines (loads, swaps, failures)
    go to stderr."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
