"""Configuration, read once from the environment (12-factor) with safe defaults. Each variable is declared once
(``VARIABLES``, ``TUNABLES``): the reading, the names ``create_app`` takes as variables and the README's tables
all come from that declaration."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import marshmallow as ma
from environs import Env, EnvError

from service.mail.smtp_url import SmtpConfig, parse_smtp_url

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"


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


def _secret_key(given: str | None, instance: Path, production: bool) -> str:
    if given:
        return given
    if production:
        raise RuntimeError("SECRET_KEY must be set when VCC_ENV=production")
    path = instance / "secret_key"
    if not path.exists():
        log.warning("SECRET_KEY not set: generating a development key in %s", path)
    return write_once(path, lambda: secrets.token_urlsafe(48).encode()).strip()


@dataclass(frozen=True)
class Settings:
    """What ``load_settings`` made of the environment; no defaults here, they are the declaration's (``Var``)."""

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
    fcm_url: str | None
    login_ratelimit: str
    login_free_failures: int
    login_backoff_max_s: int
    export_ratelimit: str
    firebase_cert_url: str | None
    trusted_proxies: int
    metrics_token: str | None
    metrics_port: int | None
    redis_prefix: str
    gc_freeze: bool
    openbadges_signing_key: str | None
    openbadges_retired_keys: str | None
    health_data_consent_required: bool
    smtp: SmtpConfig | None
    mail_from: str
    mail_ratelimit: str
    tunables: dict[str, int]

    @property
    def production(self) -> bool:
        return self.env == "production"


Kind = Literal["str", "int", "flag", "list", "path"]
"""The environs parser each variable is read with (``flag`` is ours, registered in ``_MappingEnv``)."""

_EXPECTED: dict[Kind, str] = {"str": "text", "int": "an integer", "flag": "one of 1, true, yes, on, 0, false, no, off",
                             "list": "a comma-separated list", "path": "a path"}


@dataclass(frozen=True)
class Var:
    """One environment variable, declared once: ``load_settings`` reads it by this record and the README's
    tables are rendered from it (a test compares them), so the code and the documentation cannot drift."""

    name: str
    kind: Kind
    default: Any
    meaning: str
    shown: str = ""
    """The README's default column, where ``default`` alone would not tell a reader (a computed or
    domain-owned default); empty means "render ``default``"."""

    @property
    def blank_is_a_value(self) -> bool:
        """``NAME=`` (as compose files write it) counts as unset, except for text with a default of its own,
        where it has always been a value: ``RATELIMIT_DEFAULT=`` switches the default limit off."""
        return self.kind == "str" and self.default is not None

    def row(self) -> str:
        return f"| `{self.name}` | {self.shown or _shown(self.default)} | {self.meaning} |"


def _shown(default: Any) -> str:
    if default is None:
        return "unset"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    return f"`{default}`"


VARIABLES: tuple[Var, ...] = (
    Var("VCC_ENV", "str", "development", "`production` makes `SECRET_KEY` mandatory"),
    Var("VCC_INSTANCE_PATH", "path", DEFAULT_INSTANCE,
        "where the embedded database and the generated development key live", shown="`./instance`"),
    Var("DATABASE_URL", "str", None,
        "SQLAlchemy URL; `postgres://` and `postgresql://` are accepted and use psycopg 3",
        shown="SQLite file `instance/vcc.sqlite3`"),
    Var("REDIS_URL", "str", None, "Redis for leaderboards (sorted sets) and rate-limit counters; without it SQL "
        "totals and in-memory limits are used"),
    Var("REDIS_KEY_PREFIX", "str", "vcc", "prefix of every Redis key, so several deployments can share a server"),
    Var("SECRET_KEY", "str", None, "signs access tokens (HS256); keep it secret and long",
        shown="generated once into `instance/secret_key` (development only)"),
    Var("ACCESS_TOKEN_MINUTES", "int", 15, "access token (JWT) lifetime"),
    Var("REFRESH_TOKEN_DAYS", "int", 30, "refresh token lifetime (each use rotates it)"),
    Var("FIREBASE_PROJECT_ID", "str", None, "accept Firebase ID tokens of this project as bearer tokens"),
    Var("FIREBASE_CREDENTIALS", "str", None, "a Firebase service-account JSON (a file path, or the JSON text "
        "itself): push via FCM, and Firebase ID tokens"),
    Var("FIREBASE_CERT_URL", "str", None, "where ID-token signing certificates are fetched (tests point it at a "
        "local server)", shown="Google's securetoken certificates"),
    Var("FCM_URL", "str", None, "FCM HTTP v1 endpoint override (tests use a fake FCM server)",
        shown="Google's FCM endpoint"),
    Var("PUBLIC_BASE_URL", "str", "http://127.0.0.1:5000",
        "base of links the API hands out, e.g. invitation links `/join/{code}`"),
    Var("CORS_ORIGINS", "list", (), "comma-separated browser origins allowed to call the API (`*` for any)",
        shown="none"),
    Var("MAX_CONTENT_LENGTH", "int", 16 * 1024 * 1024, "largest request body; bigger is a 413 problem",
        shown="`16777216` (16 MiB)"),
    Var("IMPORT_MAX_BYTES", "int", 10 * 1024 * 1024, "largest GPX/TCX/FIT upload", shown="`10485760` (10 MiB)"),
    Var("RATELIMIT_ENABLED", "flag", True, "switch flask-limiter on or off"),
    Var("RATELIMIT_DEFAULT", "str", "600 per minute", "default limit per client address"),
    Var("LOGIN_RATELIMIT", "str", "10 per minute", "limit of `POST /api/v1/auth/token`, "
        "`POST /api/v1/auth/register` and the password-reset and verify-email endpoints per client address"),
    Var("LOGIN_FREE_FAILURES", "int", 5, "wrong passwords in a row for one email address (with or without an "
        "account) answered at once; after them each further attempt waits 1 s, then 2 s, 4 s ... (a 429 with "
        "`Retry-After`), counted in the database for all workers"),
    Var("LOGIN_BACKOFF_MAX_SECONDS", "int", 900, "the longest wait between sign-in attempts of one email address "
        "(the back-off stops doubling here)"),
    Var("EXPORT_RATELIMIT", "str", "5 per hour",
        "limit of `GET /api/v1/me/export` (the personal data export) per signed-in person"),
    Var("SMTP_URL", "str", None, "the mail server: `smtps://user:pass@host:465` (TLS), `smtp://user:pass@host:587` "
        "(STARTTLS, required), `smtp://host:25?starttls=false` (a local relay, no password); `verify=false` skips "
        "the certificate check; user and password percent-decoded. Unset: each mail is one log line (kind and "
        "recipient's domain only)", shown="unset (log sender)"),
    Var("MAIL_FROM", "str", "Vital Cities Challenge <no-reply@localhost>", "the `From` of every e-mail"),
    Var("MAIL_RATELIMIT", "str", "5 per hour", "limit of password-reset requests per e-mail address and of "
        "verification re-sends per signed-in person"),
    Var("TRUSTED_PROXIES", "int", 0, "how many reverse proxies in front set `X-Forwarded-For`; at 0 the header is "
        "ignored"),
    Var("LOG_LEVEL", "str", "INFO", "logs are JSON lines with the request id (`X-Request-ID`, accepted or "
        "generated, echoed)"),
    Var("METRICS_TOKEN", "str", None, "bearer token `GET /metrics` asks for; without it `/metrics` is open in "
        "development and not served (404) in production"),
    Var("METRICS_PORT", "int", None, "also serve the metrics on this port of all interfaces, without a token "
        "(gunicorn's master and `vcc scheduler` each serve their own; keep the port off public networks)"),
    Var("WEB_CONCURRENCY", "int", None, "gunicorn workers (`gunicorn.conf.py`)", shown="one per core"),
    Var("OPENBADGES_SIGNING_KEY", "str", None, "PEM private key (text, or a file path) that signs Open Badges "
        "credentials; RSA 2048+ (`RS256`), EC P-256 or Ed25519. Without it in production nothing is signed",
        shown="made once into `instance/` (development only)"),
    Var("OPENBADGES_RETIRED_KEYS", "str", None, "old public or private keys (PEM text or a file path) still "
        "published after a rotation", shown="none"),
    Var("HEALTH_DATA_CONSENT_REQUIRED", "flag", True, "activity is taken in only from people who consented to "
        "processing health data (GDPR art. 9); `false` where consent is collected outside this service"),
    Var("GC_FREEZE", "flag", True, "`wsgi.py` and `vcc scheduler` freeze their start-up heap out of the garbage "
        "collector's walks (`service/runtime.py`; a 1,000-item sync spent ~25% of its Python time there "
        "otherwise)"),
)
"""The platform's variables. ``create_app(config)`` treats these names among its overrides as environment
variables (``ENV_NAMES``); every other upper-case key there is a Flask setting."""

TUNABLES: tuple[Var, ...] = (
    Var("REPORT_MIN_GROUP_SIZE", "int", None, "smallest team or organisation whose figures organisers of a "
        "workplace or school challenge see, in reports, boards and exports alike (a request may only raise it; "
        "below `5` the service refuses to start)", shown="`10`"),
    Var("ACTIVITY_RETENTION_DAYS", "int", None, "days after a challenge's end (its grace period included) that "
        "the details of its activities are kept; then only the ledger's daily points remain", shown="`180`"),
    Var("NOTIFICATION_RETENTION_DAYS", "int", None, "days finished nudges (the inbox), delivery attempts, "
        "announcements and planner marks are kept; those of a challenge at least until 60 days after its end, so "
        "nothing is sent twice", shown="`90`"),
    Var("AUDIT_RETENTION_DAYS", "int", None, "days organiser and admin actions stay in the audit trail",
        shown="`365`"),
    Var("QR_WINDOW_SECONDS", "int", None, "rotation period of check-in QR tokens (current and previous window "
        "accepted)", shown="`300`"),
    Var("ACTIVITY_STEPS_FLAG_PER_DAY", "int", None, "steps in a local day above which step records are flagged "
        "for review", shown="`40000`"),
    Var("ACTIVITY_STEPS_REJECT_PER_DAY", "int", None, "steps in a local day above which step records are rejected",
        shown="`100000`"),
    Var("ACTIVITY_MAX_CADENCE_SPM", "int", None, "steps per minute above which a record is flagged",
        shown="`300`"),
    Var("ACTIVITY_MAX_DURATION_S", "int", None, "session length above which it is flagged", shown="`86400`"),
    Var("ACTIVITY_MAX_BATCH_ITEMS", "int", None, "most items in one `POST /api/v1/activities/batch` (more is a 413)",
        shown="`1000`"),
    Var("ACTIVITY_IMPORT_MAX_POINTS", "int", None, "most track points read from one imported GPX/TCX/FIT file (more "
        "is a 422 `too-many-points`, refused before the file is parsed in full)", shown="`50000`"),
)
"""Domain limits an operator may tune per deployment; set ones become Flask config keys of the same name. Their
defaults belong to the domain modules that apply them (``shown`` only documents them, and a test checks it
against those modules), so an unset one is left out of ``Settings.tunables``."""

GROUP_SIZE_FLOOR = 5
"""No deployment shows organisers a group smaller than this, whatever it configures (challenges.privacy)."""

ENV_NAMES = frozenset(var.name for var in VARIABLES)
TUNABLE_KEYS = tuple(var.name for var in TUNABLES)


class _Flag(ma.fields.Boolean):
    """The words the settings have always taken as true, and their opposites. Anything else used to read as
    false (``GC_FREEZE=enabled`` switched freezing off); now it stops the start like a bad integer does."""

    truthy = {"1", "true", "yes", "on"}
    falsy = {"0", "false", "no", "off"}

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> bool:
        if isinstance(value, bool):  # environs before 14 passes an unset default through the field
            return value
        return super()._deserialize(str(value).strip().lower(), attr, data, **kwargs)


class _MappingEnv(Env):
    """environs reads ``os.environ``, but ``create_app`` layers its overrides over it and tests pass bare
    mappings, so this reads only the mapping it is given, through the lookup hook environs made overridable
    for exactly that (sloria/environs#51). No ``${NAME}`` expansion and no ``.env`` files: a value is what the
    mapping says."""

    def __init__(self, source: Mapping[str, str]) -> None:
        super().__init__(eager=True)
        self._source = source
        self.add_parser_from_field("flag", _Flag)

    def _get_from_environ(self, key: str, default: Any, *, proxied: bool = False) -> tuple[str, Any, str | None]:
        return key, self._source.get(key, default), None


def _read(environ: Mapping[str, str], declared: Sequence[Var]) -> dict[str, Any]:
    source = {var.name: environ[var.name] for var in declared
              if var.name in environ and (environ[var.name] != "" or var.blank_is_a_value)}
    env = _MappingEnv(source)
    values: dict[str, Any] = {}
    for var in declared:
        try:
            values[var.name] = getattr(env, var.kind)(var.name, var.default)
        except EnvError as exc:  # environs' message quotes marshmallow; ours names the variable and the value
            raise RuntimeError(f"{var.name} must be {_EXPECTED[var.kind]}, got {source.get(var.name)!r}") from exc
    return values


def read_variables(environ: Mapping[str, str], *names: str) -> dict[str, Any]:
    """Some declared variables alone, parsed and checked as ``load_settings`` would: for readers that are no
    app (``gunicorn.conf.py``), so their variables are declared, defaulted and documented here too."""
    by_name = {var.name: var for var in VARIABLES}
    return _read(environ, [by_name[name] for name in names])


def _tunables(environ: Mapping[str, str]) -> dict[str, int]:
    values = {name: value for name, value in _read(environ, TUNABLES).items() if value is not None}
    if values.get("REPORT_MIN_GROUP_SIZE", GROUP_SIZE_FLOOR) < GROUP_SIZE_FLOOR:
        raise RuntimeError(f"REPORT_MIN_GROUP_SIZE must be {GROUP_SIZE_FLOOR} or more, got "
                           f"{values['REPORT_MIN_GROUP_SIZE']}: smaller groups let an organiser recognise a person")
    for name in ("ACTIVITY_RETENTION_DAYS", "NOTIFICATION_RETENTION_DAYS", "AUDIT_RETENTION_DAYS"):
        if values.get(name, 1) < 1:
            raise RuntimeError(f"{name} must be 1 or more, got {values[name]}")
    return values


def _smtp(url: str | None) -> SmtpConfig | None:
    if not url:
        return None
    try:
        return parse_smtp_url(url)
    except ValueError as exc:  # the message names what is wrong, never the password
        raise RuntimeError(f"SMTP_URL is not a mail server URL: {exc}") from None


def _mail_from(value: str) -> str:
    from email.utils import parseaddr

    _, address = parseaddr(value)
    if "@" not in address or "\n" in value or "\r" in value:
        raise RuntimeError(f"MAIL_FROM must be an address, optionally with a name (Name <a@b.org>), got {value!r}")
    return value.strip()


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from ``environ`` alone (``os.environ`` when not given): ``create_app`` passes the environment
    with its overrides on top, so nothing here may look at the process environment behind its back."""
    given = os.environ if environ is None else environ
    v = _read(given, VARIABLES)
    instance: Path = v["VCC_INSTANCE_PATH"]
    production = v["VCC_ENV"] == "production"
    db_url = v["DATABASE_URL"] or f"sqlite:///{instance / 'vcc.sqlite3'}"
    if db_url.startswith("sqlite:///") and not db_url.startswith("sqlite:////"):
        instance.mkdir(parents=True, exist_ok=True)
    return Settings(
        env=v["VCC_ENV"],
        database_url=normalise_database_url(db_url),
        redis_url=v["REDIS_URL"],
        secret_key=_secret_key(v["SECRET_KEY"], instance, production),
        firebase_credentials=v["FIREBASE_CREDENTIALS"],
        firebase_project_id=v["FIREBASE_PROJECT_ID"],
        log_level=v["LOG_LEVEL"].upper(),
        access_token_minutes=v["ACCESS_TOKEN_MINUTES"],
        refresh_token_days=v["REFRESH_TOKEN_DAYS"],
        cors_origins=tuple(o.strip() for o in v["CORS_ORIGINS"] if o.strip()),
        max_content_length=v["MAX_CONTENT_LENGTH"],
        import_max_bytes=v["IMPORT_MAX_BYTES"],
        ratelimit_default=v["RATELIMIT_DEFAULT"],
        ratelimit_enabled=v["RATELIMIT_ENABLED"],
        instance_path=instance,
        public_base_url=v["PUBLIC_BASE_URL"].rstrip("/"),
        fcm_url=v["FCM_URL"],
        redis_prefix=v["REDIS_KEY_PREFIX"],
        tunables=_tunables(given),
        login_ratelimit=v["LOGIN_RATELIMIT"],
        login_free_failures=v["LOGIN_FREE_FAILURES"],
        login_backoff_max_s=v["LOGIN_BACKOFF_MAX_SECONDS"],
        export_ratelimit=v["EXPORT_RATELIMIT"],
        firebase_cert_url=v["FIREBASE_CERT_URL"],
        trusted_proxies=v["TRUSTED_PROXIES"],
        metrics_token=v["METRICS_TOKEN"],
        metrics_port=v["METRICS_PORT"],
        gc_freeze=v["GC_FREEZE"],
        openbadges_signing_key=v["OPENBADGES_SIGNING_KEY"],
        openbadges_retired_keys=v["OPENBADGES_RETIRED_KEYS"],
        health_data_consent_required=v["HEALTH_DATA_CONSENT_REQUIRED"],
        smtp=_smtp(v["SMTP_URL"]),
        mail_from=_mail_from(v["MAIL_FROM"]),
        mail_ratelimit=v["MAIL_RATELIMIT"],
    )


TABLE_HEADER = ("| variable | default | meaning |", "|---|---|---|")


def markdown_tables() -> list[list[str]]:
    """The README's two tables, header included: the platform's variables, then the domain limits."""
    return [[*TABLE_HEADER, *(var.row() for var in declared)] for declared in (VARIABLES, TUNABLES)]


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m service.config --markdown``: paste the tables into the README after changing a variable."""
    parser = argparse.ArgumentParser(prog="python -m service.config", description=__doc__)
    parser.add_argument("--markdown", action="store_true", required=True, help="print the README tables")
    parser.parse_args(argv)
    print("\n\n".join("\n".join(table) for table in markdown_tables()))


if __name__ == "__main__":
    main()
