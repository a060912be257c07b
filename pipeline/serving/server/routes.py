"""The route handlers, and the JSON TF Serving answers with (status, metadata, predict)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Optional

from fastapi import FastAPI, Request
from fastapi.responses import Response

from components.layout import SERVING_SIGNATURE
from pipeline.serving.server.backends import example_row
from pipeline.serving.server.batching import Batcher
from pipeline.serving.server.decoding import FLOAT, INT, STRING, RequestError, decode
from pipeline.serving.server.registry import Registry, Served

log = logging.getLogger("conveyor.serve")
_TF_DTYPES = {FLOAT: "DT_FLOAT", INT: "DT_INT64", STRING: "DT_STRING"}


@dataclass
class Service:
    name: str
    registry: Registry
    max_body_bytes: int
    request_log: Optional[Any]
    batcher: Batcher = field(default_factory=Batcher)

    def served(self, name: str, version: Optional[str]) -> Served:
        """The version a request names (or the served one), else a 404 as TF Serving's."""
        if name != self.name:
            raise RequestError(f"unknown model {name!r} (this server serves {self.name!r})", 404)
        served = self.registry.served
        if version is not None and (not version.isdigit() or int(version) != served.version):
            raise RequestError(f"model {name!r} has no version {version!r} to serve (serving "
                               f"version {served.version})", 404)
        return served


def _json(payload: dict) -> Response:
    return Response(json.dumps(payload), media_type="application/json")


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused past `limit` bytes before it is parsed: by its declared length,
    and by counting what arrives (a chunked body declares none)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _over(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _over(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _over(limit: int) -> RequestError:
    return RequestError(f"request body over the limit of {limit // 1024} KB "
                        "([serving] max_body_kb)", 413)


def status(served: Served) -> dict:
    return {"model_version_status": [{"version": str(served.version), "state": "AVAILABLE",
                                      "status": {"error_code": "OK", "error_message": ""}}]}


def _tensor(name: str, dtype: str, dims: list[int]) -> dict:
    return {"dtype": dtype, "name": name, "tensor_shape": {
        "dim": [{"size": str(d), "name": ""} for d in dims], "unknown_rank": False}}


def metadata(name: str, served: Served) -> dict:
    """TF Serving's GetModelMetadata answer, with the raw features as the signature's inputs."""
    inputs = {spec.name: _tensor(spec.name, _TF_DTYPES[spec.dtype], [-1])
              for spec in served.backend.inputs.values()}
    outputs = {"outputs": _tensor("outputs", "DT_FLOAT", [-1, served.output_width])}
    signature = {"inputs": inputs, "outputs": outputs,
                 "method_name": "tensorflow/serving/predict"}
    return {"model_spec": {"name": name, "signature_name": "", "version": str(served.version)},
            "metadata": {"signature_def": {"signature_def": {SERVING_SIGNATURE: signature}}}}


async def predict(service: Service, request: Request, name: str,
                  version: Optional[str]) -> Response:
    served = service.served(name, version)
    body = await read_body(request, service.max_body_bytes)
    decoded = decode(body, served.backend.inputs, example_row)
    try:
        outputs = await service.batcher.predict(served, decoded.rows)
    except Exception as error:  # noqa: BLE001  (the model refused rows decoding let through)
        log.error("version %s: prediction failed: %s", served.version, error)
        raise RequestError(f"prediction failed: {type(error).__name__}: "
                           f"{str(error).strip().splitlines()[0][:300]}") from None
    if service.request_log is not None:
        try:
            service.request_log.record(decoded.rows)
        except Exception as error:  # noqa: BLE001  (a logging fault must not fail a prediction)
            log.error("request log: %s: %s", type(error).__name__, error)
    key = "outputs" if decoded.columnar else "predictions"
    return _json({key: outputs.tolist()})


def add_routes(app: FastAPI) -> None:
    service: Service = app.state.service

    @app.get("/v1/models/{name}")
    async def model_status(name: str):
        return _json(status(service.served(name, None)))

    @app.get("/v1/models/{name}/versions/{version}")
    async def version_status(name: str, version: str):
        return _json(status(service.served(name, version)))

    @app.get("/v1/models/{name}/metadata")
    async def model_metadata(name: str):
        return _json(metadata(name, service.served(name, None)))

    @app.get("/v1/models/{name}/versions/{version}/metadata")
    async def version_metadata(name: str, version: str):
        return _json(metadata(name, service.served(name, version)))

    @app.post("/v1/models/{name}:predict")
    async def model_predict(name: str, request: Request):
        return await predict(service, request, name, None)

    @app.post("/v1/models/{name}/versions/{version}:predict")
    async def version_predict(name: str, version: str, request: Request):
        return await predict(service, request, name, version)

    @app.post("/v1/models/{rest:path}")
    async def other_post(rest: str):
        # Without it a POST to /v1/models/<name>:classify would match the status route's
        # path and get a bare 405.
        raise RequestError(f"no such route: POST /v1/models/{rest} (predict is POST "
                           "/v1/models/<name>[/versions/<v>]:predict)", 404)
