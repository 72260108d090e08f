"""Settings come from the mapping given, validated; the development secret is made once into the instance folder."""

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


def test_only_the_given_mapping_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("REPORT_MIN_GROUP_SIZE", "9")
    settings = load_settings({"VCC_INSTANCE_PATH": str(tmp_path)})
    assert settings.log_level == "INFO" and settings.tunables == {}


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("TRUSTED_PROXIES", "two", "TRUSTED_PROXIES must be an integer, got 'two'"),
    ("QR_WINDOW_SECONDS", "1.5", "QR_WINDOW_SECONDS must be an integer, got '1.5'"),
    ("GC_FREEZE", "enabled", "GC_FREEZE must be one of 1, true, yes, on, 0, false, no, off, got 'enabled'"),
])
def test_a_malformed_value_stops_the_start_naming_the_variable(tmp_path: Path, name: str, value: str,
                                                               expected: str) -> None:
    with pytest.raises(RuntimeError) as caught:
        load_settings({"VCC_INSTANCE_PATH": str(tmp_path), name: value})
    assert str(caught.value) == expected


def test_blank_means_unset_except_for_text_with_a_default_of_its_own(tmp_path: Path) -> None:
    settings = load_settings({"VCC_INSTANCE_PATH": str(tmp_path), "REDIS_URL": "", "ACCESS_TOKEN_MINUTES": "",
                              "RATELIMIT_ENABLED": "", "CORS_ORIGINS": "", "RATELIMIT_DEFAULT": "",
                              "ACTIVITY_MAX_BATCH_ITEMS": ""})
    assert (settings.redis_url, settings.access_token_minutes, settings.ratelimit_enabled) == (None, 15, True)
    assert settings.cors_origins == () and settings.tunables == {}
    assert settings.ratelimit_default == ""  # no default limit, as before


def test_values_are_tidied_as_operators_write_them(tmp_path: Path) -> None:
    settings = load_settings({"VCC_INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "postgres://u@db/vcc",
                              "CORS_ORIGINS": " https://a.example , ,https://b.example", "LOG_LEVEL": "debug",
                              "PUBLIC_BASE_URL": "https://vcc.example/", "RATELIMIT_ENABLED": " Off ",
                              "ACCESS_TOKEN_MINUTES": " 5 "})
    assert settings.database_url == "postgresql+psycopg://u@db/vcc"
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert (settings.log_level, settings.public_base_url) == ("DEBUG", "https://vcc.example")
    assert (settings.ratelimit_enabled, settings.access_token_minutes) == (False, 5)
