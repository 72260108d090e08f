"""Operators tune domain limits and CORS through the environment, not by editing code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from service.config import load_settings


def test_tunable_limits_come_from_the_environment_as_integers(tmp_path: Any) -> None:
    settings = load_settings({"VCC_INSTANCE_PATH": str(tmp_path), "REPORT_MIN_GROUP_SIZE": "8",
                              "ACTIVITY_MAX_BATCH_ITEMS": "250", "UNRELATED": "1"})
    assert settings.tunables == {"REPORT_MIN_GROUP_SIZE": 8, "ACTIVITY_MAX_BATCH_ITEMS": 250}


def test_a_tunable_set_in_the_environment_reaches_the_app_config(
        side_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch) -> None:
    assert "QR_WINDOW_SECONDS" not in side_app().config
    monkeypatch.setenv("QR_WINDOW_SECONDS", "120")
    assert side_app().config["QR_WINDOW_SECONDS"] == 120


def test_a_cors_preflight_from_an_allowed_origin_allows_patch_and_delete(side_app: Callable[..., Flask]) -> None:
    app = side_app(CORS_ORIGINS="https://app.example")
    resp = app.test_client().options("/api/v1/me", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "PATCH"})
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "PATCH" in resp.headers["Access-Control-Allow-Methods"]
    assert "DELETE" in resp.headers["Access-Control-Allow-Methods"]
    other = app.test_client().options("/api/v1/me", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
