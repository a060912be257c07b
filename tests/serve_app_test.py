"""The app's answers that need no model: TF Serving's error shape for routes, methods and a bug."""

from __future__ import annotations

from fastapi.testclient import TestClient

from pipeline.serving.server.app import create_app
from pipeline.serving.server.registry import Registry


def client(tmp_path) -> TestClient:
    registry = Registry(str(tmp_path), lambda path: None, poll_seconds=60)
    return TestClient(create_app("taxi", registry, 1024), raise_server_exceptions=False)


def test_routes_and_methods_answer_in_tf_servings_shape(tmp_path):
    with client(tmp_path) as app:
        answer = app.get("/v2/models/taxi")
        assert (answer.status_code, answer.json()) == (
            404, {"error": "no such route: GET /v2/models/taxi"})
        answer = app.post("/v1/models/taxi:classify", content=b"{}")
        assert answer.status_code == 404 and answer.json()["error"].startswith(
            "no such route: POST /v1/models/taxi:classify")
        answer = app.delete("/v1/models/taxi/metadata")
        assert answer.status_code == 405 and answer.json() == {
            "error": "Method Not Allowed: DELETE /v1/models/taxi/metadata"}
        answer = app.get("/v1/models/other")
        assert answer.status_code == 404 and "unknown model 'other'" in answer.json()["error"]


def test_a_bug_is_a_json_500_without_a_trace(tmp_path):
    with client(tmp_path) as app:  # nothing loaded: status reads a version that is not there
        answer = app.get("/v1/models/taxi")
    assert (answer.status_code, answer.json()) == (
        500, {"error": "internal error: AttributeError"})
