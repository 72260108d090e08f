"""Corrections to the OpenAPI document flask-smorest generates, so it says what the API really does.

Clients (and the schema fuzz tests) validate responses against the document: a document that claims
``application/json`` errors or required bodies that the views do not require is a broken contract.
"""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin

from service.errors import PROBLEM_MIME

JSON_MIME = "application/json"


def document_problem_responses(spec: Any) -> None:
    """Errors are sent as problem+json; flask-smorest registers its error responses (``DEFAULT_ERROR``,
    ``UNPROCESSABLE_ENTITY``, ``NOT_FOUND``...) as application/json. Call after ``api.init_app``."""
    components = spec.components
    for responses in (components.responses_lazy, components.responses):
        for response in responses.values():
            content = response.get("content") or {}
            if JSON_MIME in content and PROBLEM_MIME not in content:
                content[PROBLEM_MIME] = content.pop(JSON_MIME)


class OptionalBodyPlugin(BasePlugin):
    """A JSON body whose schema requires no field may be left out (webargs then loads ``{}``), so the
    document says ``requestBody.required: false`` there instead of flask-smorest's blanket ``true``."""

    def init_spec(self, spec: Any) -> None:
        super().init_spec(spec)
        self.spec = spec

    def operation_helper(self, path: str | None = None, operations: dict[str, Any] | None = None,
                         **kwargs: Any) -> None:
        for operation in (operations or {}).values():
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            if not body or not body.get("required"):
                continue
            schema = (body.get("content", {}).get(JSON_MIME) or {}).get("schema")
            if schema is not None and not self._required_fields(schema):
                body["required"] = False

    def _required_fields(self, schema: Any) -> list[str]:
        if isinstance(schema, dict) and "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = self.spec.components.schemas.get(name, {"required": ["?"]})
        if not isinstance(schema, dict):
            return ["?"]  # not resolved yet: keep the conservative default
        return list(schema.get("required") or [])


def init_spec(spec: Any) -> None:
    """Install the corrections on flask-smorest's APISpec (after ``api.init_app``, before blueprints)."""
    document_problem_responses(spec)
    if not any(isinstance(p, OptionalBodyPlugin) for p in spec.plugins):
        plugin = OptionalBodyPlugin()
        plugin.init_spec(spec)
        spec.plugins.append(plugin)
