"""Settings: the development secret is made once into the instance folder and shared by every process."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from service.config import load_settings


def test_the_development_secret_key_is_made_once_private_and_reused(tmp_path: Path) -> None:
    first = load_settings({"VCC_INSTANCE_PATH": str(tmp_path)}).secret_key
    again = load_settings({"VCC_INSTANCE_PATH": str(tmp_path)}).secret_key
    assert first == again and len(first) >= 48
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]
    assert load_settings({"VCC_INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "given"}).secret_key == "given"


def test_production_needs_a_secret_key(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
        load_settings({"VCC_INSTANCE_PATH": str(tmp_path), "VCC_ENV": "production"})
    assert not (tmp_path / "secret_key").exists()
