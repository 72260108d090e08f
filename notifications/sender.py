"""Push senders: FCM through firebase-admin, or a log sender when no credentials are configured.

A sender takes ``Push`` values and returns one ``PushResult`` each, classified into what the dispatcher
must do: done, retry later (with the server's Retry-After if any), or never use this token again.
It does no database work, so the benchmark can compare it with a bare ``messaging.send_each`` loop.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Protocol

from firebase_admin import exceptions, messaging

from notifications.models import AttemptOutcome, Platform, TokenType
from service import metrics
from service.clock import utcnow

log = logging.getLogger(__name__)

CHUNK = 500  # send_each takes at most 500 messages per call


@dataclass(frozen=True)
class Push:
    key: int                 # the delivery attempt id, echoed back in the result
    token: str
    token_type: TokenType
    platform: Platform
    title: str
    body: str
    data: dict[str, str] = field(default_factory=dict)
    collapse_key: str | None = None
    ttl: timedelta = timedelta(days=1)
    high_priority: bool = False


@dataclass(frozen=True)
class PushResult:
    key: int
    outcome: AttemptOutcome
    message_id: str | None = None
    error_code: str | None = None
    error: str | None = None
    retry_after_s: float | None = None


class Sender(Protocol):
    name: str

    def send(self, pushes: Sequence[Push]) -> list[PushResult]: ...


class LogSender:
    """Development default: the nudge still lands in the inbox and the delivery log; nothing leaves the host."""

    name = "log"

    def send(self, pushes: Sequence[Push]) -> list[PushResult]:
        for push in pushes:
            log.info("push (log sender) to %s device: %s", push.platform.value, push.title)
        return [PushResult(p.key, AttemptOutcome.SUCCESS, message_id=f"log/{p.key}") for p in pushes]


def _target(push: Push) -> dict[str, str]:
    return {"fid": push.token} if push.token_type == TokenType.FID else {"token": push.token}


def build_message(push: Push, expiration_base: int | None = None) -> messaging.Message:
    """One FCM message with Android and APNs options; the collapse id makes a replaceable nudge replace.

    Registration tokens go in ``Message.token``, which firebase-admin 7.7 deprecates in favour of ``fid``;
    call this inside ``registration_tokens_allowed()`` (see there why)."""
    ttl_s = max(0, int(push.ttl.total_seconds()))
    base = expiration_base if expiration_base is not None else int(utcnow().timestamp())
    apns_headers = {"apns-priority": "10" if push.high_priority else "5",
                    "apns-expiration": str(base + ttl_s), "apns-push-type": "alert"}
    if push.collapse_key:
        apns_headers["apns-collapse-id"] = push.collapse_key[:64]
    return messaging.Message(
        notification=messaging.Notification(title=push.title, body=push.body),
        data=push.data,
        android=messaging.AndroidConfig(priority="high" if push.high_priority else "normal",
                                        collapse_key=push.collapse_key, ttl=push.ttl),
        apns=messaging.APNSConfig(headers=apns_headers),
        **_target(push),
    )


@contextlib.contextmanager
def registration_tokens_allowed() -> Iterator[None]:
    """Silence exactly firebase-admin 7.7's 'Message.token is deprecated' warning, on purpose.

    7.7 deprecates ``Message.token`` in favour of ``Message.fid``, but an FID is a different identifier (a
    Firebase installation id) while the apps register FCM *registration tokens*, which the v1 API still
    takes in the ``token`` field; the SDK silences the same warning itself in
    ``_get_messages_from_multicast``. Devices that register an installation id (``token_type='fid'``) are
    sent with ``fid``. One context per chunk: entering ``catch_warnings`` resets the warnings caches.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Message\.token is deprecated", category=DeprecationWarning)
        yield


def retry_after_seconds(error: exceptions.FirebaseError) -> float | None:
    """Read Retry-After (seconds or an HTTP date) from the response behind the SDK exception."""
    response = getattr(error, "http_response", None)
    value = response.headers.get("Retry-After") if response is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return None


def _token_is_invalid(error: exceptions.FirebaseError) -> bool:
    if isinstance(error, messaging.UnregisteredError | messaging.SenderIdMismatchError):
        return True
    text = str(error).lower()
    return isinstance(error, exceptions.InvalidArgumentError) and "registration token" in text


RETRYABLE = (messaging.QuotaExceededError, exceptions.ResourceExhaustedError, exceptions.UnavailableError,
             exceptions.InternalError, exceptions.DeadlineExceededError, exceptions.UnknownError,
             messaging.ThirdPartyAuthError)


def classify(key: int, response: messaging.SendResponse) -> PushResult:
    if response.success:
        return PushResult(key, AttemptOutcome.SUCCESS, message_id=response.message_id)
    error = response.exception
    code = getattr(error, "code", None) or type(error).__name__
    detail = str(error)[:500]
    if _token_is_invalid(error):
        return PushResult(key, AttemptOutcome.INVALID_TOKEN, error_code=code, error=detail)
    if isinstance(error, RETRYABLE):
        return PushResult(key, AttemptOutcome.RETRY, error_code=code, error=detail,
                          retry_after_s=retry_after_seconds(error))
    return PushResult(key, AttemptOutcome.FAILED, error_code=code, error=detail)


class FcmSender:
    """Delivery through firebase-admin's ``send_each`` in chunks of 500 (one HTTP/1.1 POST per message,
    each in its own thread: the SDK sizes its pool to the chunk, so a full chunk is the fastest unit)."""

    name = "fcm"

    def __init__(self, app: object) -> None:
        self.app = app

    def send(self, pushes: Sequence[Push]) -> list[PushResult]:
        results: list[PushResult] = []
        for start in range(0, len(pushes), CHUNK):
            chunk = pushes[start:start + CHUNK]
            base = int(utcnow().timestamp())
            with registration_tokens_allowed():
                messages = [build_message(p, base) for p in chunk]
            batch = messaging.send_each(messages, app=self.app)
            results += [classify(p.key, r) for p, r in zip(chunk, batch.responses, strict=True)]
        for result in results:
            if result.error_code:
                metrics.FCM_ERRORS.labels(result.error_code).inc()
        return results


_SETUP_LOCK = __import__("threading").Lock()


def get_sender(flask_app: object) -> Sender:
    """The app's sender, made once: FCM when FIREBASE_CREDENTIALS is set, else the log sender (said loudly)."""
    ext = flask_app.extensions  # type: ignore[attr-defined]
    with _SETUP_LOCK:
        sender = ext.get("vcc_push_sender")
        if sender is not None:
            return sender  # type: ignore[no-any-return]
        settings = ext["vcc_settings"]
        if settings.firebase_credentials:
            from notifications import fcm_seam

            app = fcm_seam.init_app(f"vcc-{id(flask_app)}", settings.firebase_credentials,
                                    project_id=settings.firebase_project_id, fcm_base_url=settings.fcm_url)
            sender = FcmSender(app)
            log.info("push delivery: FCM via firebase-admin (project %s)", app.project_id)
        else:
            sender = LogSender()
            log.warning("FIREBASE_CREDENTIALS is not set: using the log sender, nudges go to the inbox and "
                        "the delivery log only, no push is sent")
        ext["vcc_push_sender"] = sender
        return sender
