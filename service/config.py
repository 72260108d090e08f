"""Configuration, read once from the environment (12-factor) with safe defaults."""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be an integer, got {raw!r}") from exc


def normalise_database_url(url: str) -> str:
    """Let operators write postgres:// URLs as Heroku-style hosts do; we speak psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def write_once(path: Path, make: Callable[[], bytes]) -> str:
    """The file's text, made first (mode 0600) when it is missing: a generated development secret. Processes
    starting together may each make one; the first to link its finished file wins and the others read that
    one, never a half-written file."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "wb") as fh:
            fh.write(make())
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(draft)
    return path.read_text()


def _secret_key(env: dict[str, str], instance: Path, production: bool) -> str:
    key = env.get("SECRET_KEY")
    if key:
        return key
    if production:
        raise RuntimeError("SECRET_KEY must be set when VCC_ENV=production")
    path = instance / "secret_key"
    if not path.exists():
        log.warning("SECRET_KEY not set: generating a development key in %s", path)
    return write_once(path, lambda: secrets.token_urlsafe(48).encode()).strip()


@dataclass(frozen=True)
class Settings:
    env: str
    database_url: str
    redis_url: str | None
    secret_key: str
    firebase_credentials: str | None
    firebase_project_id: str | None
    log_level: str
    access_token_minutes: int
    refresh_token_days: int
    cors_origins: tuple[str, ...]
    max_content_length: int
    import_max_bytes: int
    ratelimit_default: str
    ratelimit_enabled: bool
    instance_path: Path
    public_base_url: str
    fcm_url: str | None = None
    login_ratelimit: str = "10 per minute"
    export_ratelimit: str = "5 per hour"
    firebase_cert_url: str | None = None
    trusted_proxies: int = 0
    redis_prefix: str = "vcc"
    gc_freeze: bool = True
    openbadges_signing_key: str | None = None
    openbadges_retired_keys: str | None = None
    health_data_consent_required: bool = True
    tunables: dict[str, int] = field(default_factory=dict)

    @property
    def production(self) -> bool:
        return self.env == "production"


TUNABLE_KEYS = (
    "ACTIVITY_STEPS_FLAG_PER_DAY", "ACTIVITY_STEPS_REJECT_PER_DAY", "ACTIVITY_MAX_CADENCE_SPM",
    "ACTIVITY_MAX_DURATION_S", "ACTIVITY_MAX_BATCH_ITEMS", "REPORT_MIN_GROUP_SIZE", "QR_WINDOW_SECONDS",
)
"""Domain limits an operator may tune per deployment; set ones become Flask config keys of the same name."""


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    instance = Path(env.get("VCC_INSTANCE_PATH") or DEFAULT_INSTANCE)
    mode = env.get("VCC_ENV", "development")
    production = mode == "production"
    db_url = env.get("DATABASE_URL") or f"sqlite:///{instance / 'vcc.sqlite3'}"
    if db_url.startswith("sqlite:///") and not db_url.startswith("sqlite:////"):
        instance.mkdir(parents=True, exist_ok=True)
    origins = tuple(o.strip() for o in env.get("CORS_ORIGINS", "").split(",") if o.strip())
    return Settings(
        env=mode,
        database_url=normalise_database_url(db_url),
        redis_url=env.get("REDIS_URL") or None,
        secret_key=_secret_key(env, instance, production),
        firebase_credentials=env.get("FIREBASE_CREDENTIALS") or None,
        firebase_project_id=env.get("FIREBASE_PROJECT_ID") or None,
        log_level=env.get("LOG_LEVEL", "INFO").upper(),
        access_token_minutes=_int(env, "ACCESS_TOKEN_MINUTES", 15),
        refresh_token_days=_int(env, "REFRESH_TOKEN_DAYS", 30),
        cors_origins=origins,
        max_content_length=_int(env, "MAX_CONTENT_LENGTH", 16 * 1024 * 1024),
        import_max_bytes=_int(env, "IMPORT_MAX_BYTES", 10 * 1024 * 1024),
        ratelimit_default=env.get("RATELIMIT_DEFAULT", "600 per minute"),
        ratelimit_enabled=_bool(env.get("RATELIMIT_ENABLED"), True),
        instance_path=instance,
        public_base_url=env.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        fcm_url=env.get("FCM_URL") or None,
        redis_prefix=env.get("REDIS_KEY_PREFIX", "vcc"),
        tunables={key: _int(env, key, 0) for key in TUNABLE_KEYS if env.get(key)},
        login_ratelimit=env.get("LOGIN_RATELIMIT", "10 per minute"),
        export_ratelimit=env.get("EXPORT_RATELIMIT", "5 per hour"),
        firebase_cert_url=env.get("FIREBASE_CERT_URL") or None,
        trusted_proxies=_int(env, "TRUSTED_PROXIES", 0),
        gc_freeze=_bool(env.get("GC_FREEZE"), True),
        openbadges_signing_key=env.get("OPENBADGES_SIGNING_KEY") or None,
        openbadges_retired_keys=env.get("OPENBADGES_RETIRED_KEYS") or None,
        health_data_consent_required=_bool(env.get("HEALTH_DATA_CONSENT_REQUIRED"), True),
    )
