"""The OpenAPI description is complete enough for a fuzzer to reach every path (issue #16, item 15)."""

from __future__ import annotations

import httpx

from tests.fixtures.collector import Collector


def test_openapi_describes_bodies_and_every_error_answer(collector: Collector) -> None:
    spec = httpx.get(collector.url + "/openapi.json", timeout=10).json()
    paths = spec["paths"]
    for path, model in (("/api/v1/uploads", "UploadV1"), ("/api/v1/heartbeats", "HeartbeatV1")):
        op = paths[path]["post"]
        content = op["requestBody"]["content"]
        assert content["application/json"]["schema"] == {"$ref": f"#/components/schemas/{model}"}
        assert op["requestBody"]["required"] is True
        assert {"200", "401", "403", "413", "422"} <= set(op["responses"])
    assert "UploadV1" in spec["components"]["schemas"] and "SegmentV1" in spec["components"]["schemas"]
    error = {"$ref": "#/components/schemas/ErrorV1"}
    for path, methods in paths.items():
        for method, op in methods.items():
            responses = op["responses"]
            if path != "/healthz":
                assert "422" in responses, (method, path)
            if path not in ("/healthz", "/api/v1/enroll"):
                assert {"401", "403"} <= set(responses), (method, path)
            if "{" in path:
                assert "404" in responses, (method, path)
            for status, answer in responses.items():
                if status[0] in "45":
                    assert answer["content"]["application/json"]["schema"] == error, (method, path, status)
