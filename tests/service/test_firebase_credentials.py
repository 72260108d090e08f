"""FIREBASE_CREDENTIALS means the same to sign-in and to push delivery: a file path or the JSON itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.firebase_credentials import load_service_account

ACCOUNT = {"type": "service_account", "project_id": "vcc-demo", "client_email": "push@vcc-demo.example"}


def test_a_path_and_the_json_text_give_the_same_service_account(tmp_path: Path) -> None:
    path = tmp_path / "sa.json"
    path.write_text(json.dumps(ACCOUNT))
    assert load_service_account(str(path)) == ACCOUNT
    assert load_service_account("  " + json.dumps(ACCOUNT) + "\n") == ACCOUNT


def test_json_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ValueError, match="JSON object"):
        load_service_account("[1, 2]")
