"""The OpenAPI document covers every API route with schemas and security; docs and dashboard are served."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def spec(app: Flask) -> dict[str, Any]:
    return app.test_client().get("/api/openapi.json").get_json()


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, ops in spec["paths"].items() for method, op in ops.items()
            if method in METHODS]


def _flask_path(rule: str) -> str:
    import re

    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def test_every_api_route_is_documented(app: Flask, spec: dict[str, Any]) -> None:
    documented = {(path, method) for path, method, _ in _operations(spec)}
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        for method in (rule.methods or set()) & {m.upper() for m in METHODS}:
            if (_flask_path(rule.rule), method.lower()) not in documented:
                missing.append(f"{method} {rule.rule}")
    assert missing == []


def test_every_operation_has_a_success_response_schema_and_summary(spec: dict[str, Any]) -> None:
    problems = []
    for path, method, op in _operations(spec):
        success = {code: r for code, r in op["responses"].items() if code.startswith("2")}
        if not success:
            problems.append(f"{method} {path}: no success response")
        for code, response in success.items():
            content = response.get("content", {})  # JSON mostly; a CSV download documents text/csv
            if code != "204" and not any("schema" in c for c in content.values()):
                problems.append(f"{method} {path}: {code} without a schema")
        if not op.get("summary"):
            problems.append(f"{method} {path}: no summary (docstring)")
        if "requestBody" in op and not all("schema" in c for c in op["requestBody"]["content"].values()):
            problems.append(f"{method} {path}: request body without a schema")
    assert problems == []


def test_protected_operations_declare_bearer_security(spec: dict[str, Any]) -> None:
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer",
                                                                   "bearerFormat": "JWT"}
    ops = {(p, m): op for p, m, op in _operations(spec)}
    for key in [("/api/v1/me", "get"), ("/api/v1/organisations", "post"),
                ("/api/v1/invitations/{code}/accept", "post")]:
        assert ops[key]["security"] == [{"bearerAuth": []}]
    assert "security" not in ops[("/api/v1/auth/token", "post")]


def test_errors_are_documented_as_problems(spec: dict[str, Any]) -> None:
    content = spec["components"]["responses"]["DEFAULT_ERROR"]["content"]
    schema_ref = content["application/problem+json"]["schema"]["$ref"]
    problem = spec["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem["properties"])


def test_swagger_ui_is_served_with_local_assets(client: FlaskClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/docs/static/swagger-ui-bundle.js" in html and "/api/openapi.json" in html
    with client.get("/api/docs/static/swagger-ui-bundle.js") as asset:
        assert asset.status_code in (200, 302)  # 302 to the CDN when swagger-ui-bundle is not installed
        if asset.status_code == 200:
            assert len(asset.get_data()) > 100_000
    with client.get("/api/docs/static/../../../etc/passwd") as escape:
        assert escape.status_code == 404


def test_dashboard_page_and_assets(client: FlaskClient) -> None:
    with client.get("/dashboard") as page:
        assert page.status_code == 200 and page.mimetype == "text/html"
        html = page.get_data(as_text=True)
    assert "/dashboard/static/app.js" in html and 'id="login-form"' in html
    with client.get("/dashboard/static/app.js") as resp:
        script = resp.get_data(as_text=True)
    for endpoint in ("/api/v1/auth/token", "/api/v1/organisations", "/api/v1/challenges?organisation_id=",
                     "/leaderboards?scope=", "/report", "/report.csv", "/review-queue", "/qr.svg"):
        assert endpoint in script
    assert "innerHTML" not in script  # text only: names typed by users cannot inject markup
    with client.get("/join/abc123") as join:  # the join page (tests/service/test_join_page.py) knows no such code
        assert join.status_code == 404 and join.mimetype == "text/html"


def test_idempotent_operations_document_the_header(spec: dict[str, Any]) -> None:
    from service.idempotency import IdempotencyDocPlugin

    operations = {"post": {"parameters": [{"in": "query", "name": "dry_run"}],
                           "x-idempotency-key": {"header": "Idempotency-Key", "required": False}}}
    IdempotencyDocPlugin().operation_helper(path="/x", operations=operations)
    assert [p["name"] for p in operations["post"]["parameters"]] == ["dry_run", "Idempotency-Key"]
    assert "x-idempotency-key" not in operations["post"]
    assert all("x-idempotency-key" not in op for _, _, op in _operations(spec))
