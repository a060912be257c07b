"""The FastAPI application: TensorFlow Serving's REST API over the served version.

Routes (`<name>` is the config's pipeline name):
  GET  /v1/models/<name>[/versions/<v>]            model_version_status
  GET  /v1/models/<name>[/versions/<v>]/metadata   the signature: raw inputs, outputs
  POST /v1/models/<name>[/versions/<v>]:predict    rows ("instances") or columns ("inputs")

Every refusal is TF Serving's `{"error": "..."}` with 400 (a bad request), 404 (an unknown
model, version or route) or 413 (a body over `[serving] max_body_kb`); none carries a
stack trace, and none stops the server. Concurrent predicts share model calls
(batching.py).
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from pipeline.serving.server import routes
from pipeline.serving.server.decoding import RequestError
from pipeline.serving.server.registry import Registry

log = logging.getLogger("conveyor.serve")


def freeze_heap() -> None:
    """Moves every object alive now (TensorFlow's modules, the loaded model: millions of
    them) out of the garbage collector's reach. Each request allocates enough to trigger
    collections, and a full one over that heap stalls every request for about 300 ms."""
    gc.collect()
    gc.freeze()


def error_response(message: str, status: int) -> Response:
    return Response(json.dumps({"error": message}), status_code=status,
                    media_type="application/json")


def create_app(name: str, registry: Registry, max_body_bytes: int,
               request_log=None) -> FastAPI:
    """`registry` has its version loaded; `request_log` (optional) gets `record(rows)` after
    each successful predict and `close()` at shutdown."""

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        freeze_heap()
        registry.start()
        try:
            yield
        finally:
            registry.stop()
            app.state.service.batcher.close()
            if request_log is not None:
                request_log.close()

    # FastAPI's native OpenTelemetry spans, metrics and logs cost a tracer lookup (and
    # environment reads) per request; nothing here exports them.
    app = FastAPI(title=f"Conveyor: {name}", lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url=None,
                  telemetry={"tracing": False, "metrics": False, "logs": False,
                             "operation_spans": False})
    app.state.service = routes.Service(name, registry, max_body_bytes, request_log)

    @app.exception_handler(RequestError)
    async def refused(_request: Request, error: RequestError):
        return error_response(str(error), error.status)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException):
        if error.status_code == 404:
            message = f"no such route: {request.method} {request.url.path}"
        else:
            message = f"{error.detail}: {request.method} {request.url.path}"
        return error_response(message, error.status_code)

    @app.exception_handler(Exception)
    async def internal(request: Request, error: Exception):
        # A bug, not the client's fault: logged here, one line for the client.
        log.exception("%s %s failed", request.method, request.url.path)
        return error_response(f"internal error: {type(error).__name__}", 500)

    routes.add_routes(app)
    return app
