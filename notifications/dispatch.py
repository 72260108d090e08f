"""Sending due nudges exactly once, even with several scheduler replicas and after a crash.

One run: (1) recover claims whose holder died (their ``pending`` attempts become ``unknown``: FCM may have
the message, so it is never sent again to that device); (2) claim a batch of due nudges (``FOR UPDATE
SKIP LOCKED`` on PostgreSQL; on SQLite one atomic ``UPDATE ... WHERE status='planned'`` under the
database's single writer lock); (3) re-check preferences, staleness, quiet hours and daily caps, render
the texts and put the nudge in the inbox; (4) write one ``pending`` attempt per device and commit
before any HTTP call; (5) push; (6) record every outcome, prune invalid tokens and either finish the
nudge or plan a retry with exponential backoff, jitter and the server's Retry-After.

A Retry-After from FCM (429 QUOTA_EXCEEDED, or a 503 that carries one) is about the whole project, not
just the message that got it: the run stops there, and no replica pushes anything until it has passed
(a ``PlannerMark`` holds the time, so every replica sees it).
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from notifications.models import (
    AttemptOutcome,
    DeliveryAttempt,
    DeviceToken,
    Nudge,
    NudgeKind,
    NudgeStatus,
    PlannerMark,
)
from notifications.planner import REPLACEABLE, TTL, user_prefs
from notifications.preferences import Prefs, local_day_start, next_allowed
from notifications.sender import Push, PushResult, Sender
from notifications.templates import render
from service import metrics
from service.clock import utcnow
from service.db_dialect import insert_ignore, is_postgres, one_of

CLAIM_BATCH = 500
CLAIM_TIMEOUT = timedelta(minutes=5)
MAX_ATTEMPTS = 5
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
TOKEN_LIFETIME = timedelta(days=270)  # FCM expires tokens unseen for 270 days; the app re-registers on start
HIGH_PRIORITY = {NudgeKind.STREAK_AT_RISK, NudgeKind.ANNOUNCEMENT}
DONE_FOR_DEVICE = {AttemptOutcome.SUCCESS, AttemptOutcome.UNKNOWN, AttemptOutcome.INVALID_TOKEN,
                   AttemptOutcome.FAILED}
TOOK_IT = {AttemptOutcome.SUCCESS, AttemptOutcome.UNKNOWN}
PAUSE_KEY = "dispatch:paused-until"


@dataclass
class DispatchStats:
    recovered: int = 0
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    expired: int = 0
    deferred: int = 0
    pushes: int = 0
    paused_until: datetime | None = None


def backoff(attempt: int, retry_after_s: float | None, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with 'equal jitter' (half fixed, half random), never sooner than Retry-After."""
    rng = rng or random
    ceiling = min(BACKOFF_MAX, BACKOFF_BASE * (2 ** max(0, attempt - 1)))
    delay = ceiling / 2 + ceiling / 2 * rng.random()
    return max(delay, timedelta(seconds=retry_after_s or 0))


def recover_stale_claims(session: Session, now: datetime) -> int:
    """Give back nudges whose claim expired (their dispatcher died); never resend what may have gone out."""
    query = select(Nudge.id).where(Nudge.status == NudgeStatus.SENDING, Nudge.claim_expires_at < now)
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if ids:
        session.execute(update(DeliveryAttempt)
                        .where(one_of(session, DeliveryAttempt.nudge_id, ids),
                               DeliveryAttempt.outcome == AttemptOutcome.PENDING)
                        .values(outcome=AttemptOutcome.UNKNOWN, finished_at=now,
                                error="dispatcher stopped before the outcome was recorded")
                        .execution_options(synchronize_session=False))
        session.execute(update(Nudge).where(one_of(session, Nudge.id, ids), Nudge.status == NudgeStatus.SENDING)
                        .values(status=NudgeStatus.PLANNED, claimed_by=None, claim_expires_at=None, due_at=now)
                        .execution_options(synchronize_session=False))
    session.commit()
    return len(ids)


def claim(session: Session, holder: str, now: datetime, limit: int = CLAIM_BATCH) -> str:
    """Mark up to ``limit`` due nudges as ours; returns the claim token that names them."""
    token = f"{holder}/{uuid.uuid4().hex[:8]}"
    due = (select(Nudge.id).where(Nudge.status == NudgeStatus.PLANNED, Nudge.due_at <= now)
           .order_by(Nudge.due_at, Nudge.id).limit(limit))
    if is_postgres(session):
        ids = list(session.scalars(due.with_for_update(skip_locked=True)))
        where = one_of(session, Nudge.id, ids)
    else:  # SQLite: one statement, and SQLite runs one writer at a time, so the claim is atomic
        where = Nudge.id.in_(due.scalar_subquery())
    session.execute(update(Nudge).where(where, Nudge.status == NudgeStatus.PLANNED)
                    .values(status=NudgeStatus.SENDING, claimed_by=token, claim_expires_at=now + CLAIM_TIMEOUT)
                    .execution_options(synchronize_session=False))
    session.commit()
    return token


def _sent_today(session: Session, prefs: dict[int, Prefs], now: datetime) -> dict[tuple[int, str | None], int]:
    """Pushes already sent in each user's local day: per user (kind None) and per user and kind."""
    counts: dict[tuple[int, str | None], int] = defaultdict(int)
    ids = list(prefs)
    for start in range(0, len(ids), 1000):
        rows = session.execute(select(Nudge.user_id, Nudge.kind, Nudge.sent_at).where(
            one_of(session, Nudge.user_id, ids[start:start + 1000]), Nudge.status == NudgeStatus.SENT,
            Nudge.sent_at >= now - timedelta(hours=27)))
        for uid, kind, sent_at in rows:
            if sent_at >= local_day_start(now, prefs[uid].timezone):
                counts[(uid, None)] += 1
                counts[(uid, kind)] += 1
    return counts


def _finish(nudge: Nudge, status: NudgeStatus, now: datetime, reason: str | None = None) -> None:
    nudge.status, nudge.reason = status, reason
    nudge.claimed_by = nudge.claim_expires_at = None
    if status == NudgeStatus.SENT:
        nudge.sent_at = nudge.sent_at or now


def _push_for(nudge: Nudge, device: DeviceToken, attempt_id: int, title: str, body: str) -> Push:
    collapse = f"{nudge.kind.value}-{nudge.challenge_id or 0}" if nudge.kind in REPLACEABLE else None
    ttl = (nudge.expires_at - utcnow()) if nudge.expires_at else TTL[nudge.kind]
    return Push(key=attempt_id, token=device.token, token_type=device.token_type, platform=device.platform,
                title=title, body=body, collapse_key=collapse, ttl=max(ttl, timedelta(seconds=60)),
                high_priority=nudge.kind in HIGH_PRIORITY,
                data={"nudge_id": str(nudge.id), "kind": nudge.kind.value,
                      "challenge_id": str(nudge.challenge_id or "")})


def _prepare(session: Session, token: str, now: datetime, stats: DispatchStats, sender_name: str,
             quiet_hours: bool = True) -> list[Push]:
    """Check, render and write pending attempts for the claimed nudges; returns the pushes to make."""
    nudges = list(session.scalars(select(Nudge).where(Nudge.claimed_by == token, Nudge.status == NudgeStatus.SENDING)
                                  .order_by(Nudge.due_at, Nudge.id)))
    stats.claimed += len(nudges)
    if not nudges:
        return []
    prefs = user_prefs(session, {n.user_id for n in nudges})
    counts = _sent_today(session, prefs, now)
    devices: dict[int, list[DeviceToken]] = defaultdict(list)
    for device in session.scalars(select(DeviceToken).where(one_of(session, DeviceToken.user_id, list(prefs)),
                                                            DeviceToken.invalid_since.is_(None),
                                                            DeviceToken.last_seen_at > now - TOKEN_LIFETIME)):
        devices[device.user_id].append(device)
    done: dict[int, set[int | None]] = defaultdict(set)
    for nudge_id, device_id in session.execute(
            select(DeliveryAttempt.nudge_id, DeliveryAttempt.device_id).where(
                one_of(session, DeliveryAttempt.nudge_id, [n.id for n in nudges]),
                DeliveryAttempt.outcome.in_(DONE_FOR_DEVICE))):
        done[nudge_id].add(device_id)
    planned: list[tuple[Nudge, DeviceToken, DeliveryAttempt]] = []
    push_text: dict[int, str] = {}
    for nudge in nudges:
        pref = prefs.get(nudge.user_id)
        if pref is None or not pref.wants(nudge.kind):
            _finish(nudge, NudgeStatus.SKIPPED, now, "preference")
            stats.skipped += 1
            continue
        if nudge.expires_at is not None and now >= nudge.expires_at:
            _finish(nudge, NudgeStatus.EXPIRED, now, "stale")
            stats.expired += 1
            continue
        allowed = next_allowed(now, pref) if quiet_hours else now
        if allowed > now:
            nudge.status, nudge.due_at = NudgeStatus.PLANNED, allowed
            nudge.claimed_by = nudge.claim_expires_at = None
            stats.deferred += 1
            continue
        text = render(nudge.kind, pref.locale, nudge.params or {}, pref.timezone)
        nudge.title, nudge.body = text.title, text.inbox
        push_text[nudge.id] = text.push
        if nudge.inbox_at is None:
            nudge.inbox_at = now
        if nudge.attempts == 0:
            if (counts[(nudge.user_id, None)] >= pref.daily_cap
                    or counts[(nudge.user_id, nudge.kind.value)] >= pref.cap_for(nudge.kind)):
                _finish(nudge, NudgeStatus.SKIPPED, now, "daily-cap")  # still in the inbox, just no buzz
                stats.skipped += 1
                continue
            counts[(nudge.user_id, None)] += 1
            counts[(nudge.user_id, nudge.kind.value)] += 1
        targets = [d for d in devices[nudge.user_id] if d.id not in done[nudge.id]]
        if not targets:
            _finish(nudge, NudgeStatus.SENT, now, None if done[nudge.id] else "inbox-only")
            stats.sent += 1
            continue
        nudge.attempts += 1
        for device in targets:
            attempt = DeliveryAttempt(nudge_id=nudge.id, device_id=device.id, attempt=nudge.attempts,
                                      outcome=AttemptOutcome.PENDING, started_at=now, sender=sender_name)
            session.add(attempt)
            planned.append((nudge, device, attempt))
    session.flush()
    return [_push_for(n, d, a.id, n.title or "", push_text[n.id]) for n, d, a in planned]


def _record(session: Session, token: str, results: list[PushResult], sender_name: str, now: datetime,
            stats: DispatchStats) -> None:
    by_key = {r.key: r for r in results}
    attempts = list(session.scalars(select(DeliveryAttempt).where(one_of(session, DeliveryAttempt.id, list(by_key)))))
    nudges = {n.id: n for n in session.scalars(select(Nudge).where(Nudge.claimed_by == token))}
    invalid_devices: dict[int, str] = {}
    retry_after: dict[int, float] = defaultdict(float)
    needs_retry: set[int] = set()
    for attempt in attempts:
        result = by_key[attempt.id]
        attempt.outcome, attempt.finished_at, attempt.sender = result.outcome, now, sender_name
        attempt.message_id, attempt.error_code, attempt.error = result.message_id, result.error_code, result.error
        attempt.retry_after_s = result.retry_after_s
        if result.outcome == AttemptOutcome.INVALID_TOKEN and attempt.device_id is not None:
            invalid_devices[attempt.device_id] = result.error_code or "invalid"
        if result.outcome == AttemptOutcome.RETRY:
            needs_retry.add(attempt.nudge_id)
            retry_after[attempt.nudge_id] = max(retry_after[attempt.nudge_id], result.retry_after_s or 0)
    if invalid_devices:
        invalid = one_of(session, DeviceToken.id, list(invalid_devices))
        for device in session.scalars(select(DeviceToken).where(invalid)):
            device.invalid_since, device.invalid_reason = now, invalid_devices[device.id]
    session.flush()
    took = set(session.scalars(select(DeliveryAttempt.nudge_id).where(
        one_of(session, DeliveryAttempt.nudge_id, list(nudges)), DeliveryAttempt.outcome.in_(TOOK_IT))))
    for nudge in nudges.values():
        if nudge.status != NudgeStatus.SENDING:
            continue
        if nudge.id in needs_retry and nudge.attempts < MAX_ATTEMPTS:
            nudge.status, nudge.due_at = NudgeStatus.PLANNED, now + backoff(nudge.attempts, retry_after[nudge.id])
            nudge.claimed_by = nudge.claim_expires_at = None
            stats.retrying += 1
        elif nudge.id in took:
            _finish(nudge, NudgeStatus.SENT, now)
            stats.sent += 1
        else:
            reason = "retries-exhausted" if nudge.id in needs_retry else "no-valid-device"
            _finish(nudge, NudgeStatus.FAILED, now, reason)
            stats.failed += 1


def _outcomes(stats: DispatchStats) -> dict[str, int]:
    return {"sent": stats.sent, "failed": stats.failed, "skipped": stats.skipped, "expired": stats.expired,
            "retrying": stats.retrying}


def paused_until(session: Session, now: datetime) -> datetime | None:
    """The end of a project-wide pause the server asked for (Retry-After), if it is still running."""
    value = session.scalar(select(PlannerMark.value).where(PlannerMark.key == PAUSE_KEY)) or {}
    until = datetime.fromisoformat(value["until"]) if value.get("until") else None
    return until if until is not None and until > now else None


def pause(session: Session, until: datetime) -> None:
    """Push nothing before ``until`` (only ever extends a pause); the caller commits."""
    session.execute(insert_ignore(session, PlannerMark.__table__, index_elements=["key"]),
                    [{"key": PAUSE_KEY, "value": {}, "updated_at": utcnow()}])
    mark = session.scalar(select(PlannerMark).where(PlannerMark.key == PAUSE_KEY))
    assert mark is not None
    current = (mark.value or {}).get("until")
    if current is None or datetime.fromisoformat(current) < until:
        mark.value, mark.updated_at = {"until": until.isoformat()}, utcnow()


def _server_pause(results: list[PushResult]) -> float:
    return max((r.retry_after_s or 0.0 for r in results if r.outcome == AttemptOutcome.RETRY), default=0.0)


def dispatch_due(session: Session, sender: Sender, holder: str, *, batch: int = CLAIM_BATCH,
                 max_batches: int | None = None, keep_alive: Callable[[], bool] | None = None,
                 quiet_hours: bool = True) -> DispatchStats:
    """Send every due nudge once. ``keep_alive`` (renewing the job's lease) is called between batches."""
    stats = DispatchStats(recovered=recover_stale_claims(session, utcnow()))
    stats.paused_until = paused_until(session, utcnow())
    if stats.paused_until is not None:
        return stats
    rounds = 0
    while max_batches is None or rounds < max_batches:
        rounds += 1
        now = utcnow()
        token = claim(session, holder, now, batch)
        claimed_before = stats.claimed
        counted = _outcomes(stats)
        pushes = _prepare(session, token, now, stats, sender.name, quiet_hours)
        session.commit()  # pending attempts are durable before any push leaves
        if pushes:
            stats.pushes += len(pushes)
            results = sender.send(pushes)
            _record(session, token, results, sender.name, utcnow(), stats)
            wait = _server_pause(results)
            if wait > 0:
                stats.paused_until = utcnow() + timedelta(seconds=wait)
                pause(session, stats.paused_until)
            session.commit()
        for outcome, total in _outcomes(stats).items():  # committed: each nudge's outcome counts once
            metrics.NUDGES.labels(outcome).inc(total - counted[outcome])
        if stats.paused_until is not None:
            break
        if stats.claimed == claimed_before:  # nothing due (or other replicas hold it all)
            break
        if keep_alive is not None and not keep_alive():
            break
    return stats
