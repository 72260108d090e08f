"""Redis back end of the leaderboards: one sorted set per (contest, scope, period).

Keys are ``{prefix}:lb:{<contest>}:<scope>:<period_key>``: the ``{<contest>}`` hash tag puts a whole
contest in one Redis Cluster slot, so a pipeline never crosses slots. Members encode the subject id
as ``f"{10**12 - id:012d}"``: ZREVRANGE orders equal scores by member descending, which is then id
ascending, the same stable tie order as SQL. Rank is standard competition ranking: 1 + ZCOUNT of the
scores strictly above.

Redis is a cache of LeaderboardTotal. Increments are queued in ``session.info`` and sent, pipelined,
from the session's ``after_commit`` event, so Redis never shows points the database rolled back. The
increment is a tiny script (ZINCRBY only if the key exists): a missing board (flushed, expired,
never built) is rebuilt from SQL totals on the next read instead of being started half-empty.
Finished day and week boards get EXPIREAT one week after the period ends.

When Redis cannot be reached after a commit, the boards it was sent to are dropped; when even that fails
(Redis is down) the contest is marked in SQL (``StaleBoards``), because Redis may come back holding those
boards without the increments (a snapshot, a partition that healed). Reads call ``repair_if_due`` first: in
a process that has seen Redis fail, and in every process at least every ``REPAIR_EVERY_S``, it drops the
boards of each contest with marks that Redis has not yet been repaired for (the repaired counts live in
Redis, so a read never writes SQL), and the next read rebuilds them from the SQL totals.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from redis.exceptions import NoScriptError
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from scoring.types import Scope
from service import metrics
from service.clock import utcnow
from service.db_dialect import insert_for

log = logging.getLogger(__name__)

MAX_ID = 10**12
KEEP_AFTER_END = timedelta(days=7)
KEEP_AT_LEAST = timedelta(hours=1)  # a board of a long-finished period, rebuilt on demand, lives this long
PENDING = "scoring_redis_pending"
BUILD_TTL_S = 300  # a rebuild that died leaves its marker this long at most
FIX_ROUNDS = 20
REPAIR_EVERY_S = 10.0
_health = {"suspect": False, "checked": -math.inf}  # this process: has it seen Redis fail, when did it check

INCR_IF_EXISTS = """
local applied = 0
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('ZINCRBY', KEYS[1], ARGV[1], ARGV[2])
  if ARGV[3] ~= '' then redis.call('EXPIREAT', KEYS[1], ARGV[3]) end
  applied = 1
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('SADD', KEYS[3], ARGV[2])
  redis.call('EXPIRE', KEYS[3], ARGV[4])
end
return applied
"""
INCR_SHA = hashlib.sha1(INCR_IF_EXISTS.encode()).hexdigest()


def client() -> Any | None:
    if not has_app_context():
        return None
    return current_app.extensions.get("vcc_redis")


def prefix() -> str:
    settings = current_app.extensions.get("vcc_settings")
    return getattr(settings, "redis_prefix", "vcc")


def board_key(pfx: str, contest_id: int, scope: Scope | str, period_key: str) -> str:
    return f"{pfx}:lb:{{{contest_id}}}:{Scope(scope).value}:{period_key}"


def contest_pattern(pfx: str, contest_id: int) -> str:
    return f"{pfx}:lb:{{{contest_id}}}:*"


def contest_of(key: str) -> int:
    return int(key.rsplit(":lb:{", 1)[1].split("}", 1)[0])


def repaired_key(pfx: str) -> str:
    """One hash of contest -> the misses its boards were repaired for (one key: no cross-slot reads)."""
    return f"{pfx}:lb-repaired"


def member(subject_id: int) -> str:
    return f"{MAX_ID - subject_id:012d}"


def subject(member_: str) -> int:
    return MAX_ID - int(member_)


def expire_ts(period_end: datetime) -> int:
    """EXPIREAT for a finished day/week board: a week after it ends, and never sooner than in an hour."""
    return int(max(period_end + KEEP_AFTER_END, utcnow() + KEEP_AT_LEAST).timestamp())


def queue_increments(session: Session, contest_id: int, items: Iterable[tuple[tuple[Scope, str, int], int]],
                     expiry: dict[str, datetime]) -> None:
    r = client()
    if r is None:
        return
    pfx = prefix()
    pending = session.info.setdefault(PENDING, {"client": r, "ops": []})
    for (scope, pkey, sid), pts in items:
        end = expiry.get(pkey)
        expire_at = str(expire_ts(end)) if end else ""
        pending["ops"].append((board_key(pfx, contest_id, scope, pkey), member(sid), pts, expire_at))


def queue_removal(session: Session, keys: list[str], members: list[str]) -> None:
    r = client()
    if r is None:
        return
    pending = session.info.setdefault(PENDING, {"client": r, "ops": []})
    pending.setdefault("removals", []).append((keys, members))


@event.listens_for(Session, "after_commit")
def _flush_after_commit(session: Session) -> None:
    pending = session.info.pop(PENDING, None)
    if not pending:
        return
    r = pending["client"]
    removals = pending.get("removals", [])
    try:
        _send(r, pending["ops"], removals)
    except Exception:  # Redis is a cache: the SQL totals are committed; drop the boards to rebuild them
        log.warning("redis board update failed; boards will be rebuilt from SQL on read", exc_info=True)
        metrics.REDIS_FALLBACKS.labels("write").inc()
        keys = {op[0] for op in pending["ops"]} | {key for keys, _ in removals for key in keys}
        try:
            r.delete(*keys)
        except Exception:
            mark_stale(session, {contest_of(key) for key in keys})


def note_failure() -> None:
    _health["suspect"] = True


def mark_stale(session: Session, contest_ids: set[int]) -> None:
    """Note in SQL that these contests' Redis boards missed increments; after commit the session can no longer
    run statements, so on a connection of its own."""
    from scoring.models import StaleBoards

    note_failure()
    stmt = insert_for(session, StaleBoards).values([{"contest_id": cid, "misses": 1} for cid in sorted(contest_ids)])
    stmt = stmt.on_conflict_do_update(index_elements=[StaleBoards.contest_id],
                                      set_={"misses": StaleBoards.misses + 1})
    try:
        with session.get_bind().engine.begin() as conn:
            conn.execute(stmt)
    except Exception:  # the nightly scoring.reconcile job rebuilds every live board anyway
        log.exception("could not mark the redis boards of contests %s stale", sorted(contest_ids))


def repair_if_due(session: Session, r: Any) -> None:
    """Drop the boards of contests marked stale since Redis was last repaired for them (see the module's
    docstring); raises RedisError while Redis is unreachable."""
    from scoring.models import StaleBoards

    now = time.monotonic()
    if not _health["suspect"] and now - _health["checked"] < REPAIR_EVERY_S:
        return
    marks = {int(cid): int(misses)
             for cid, misses in session.execute(select(StaleBoards.contest_id, StaleBoards.misses))}
    if marks:
        pfx = prefix()
        done = r.hmget(repaired_key(pfx), list(marks))
        for (cid, misses), repaired in zip(marks.items(), done, strict=True):
            if int(repaired or 0) < misses:
                log.warning("dropping the redis boards of contest %s: they missed increments", cid)
                drop_contest(r, pfx, cid)
                r.hset(repaired_key(pfx), str(cid), misses)
    _health.update(suspect=False, checked=now)


def _send(r: Any, ops: list[tuple[str, str, int, str]], removals: list[tuple[list[str], list[str]]]) -> None:
    """One pipelined round trip: EVALSHA of the increment script per line, ZREM of removed members.

    redis-py's Script objects ask SCRIPT EXISTS before every pipeline (a second round trip per write); here
    the script is sent by its SHA and loaded only when Redis answers NOSCRIPT (a restart or SCRIPT FLUSH),
    and then just the increments that failed are sent again, so none is applied twice.
    """
    pipe = r.pipeline(transaction=False)
    for key, mem, pts, expire_at in ops:
        pipe.evalsha(INCR_SHA, 3, key, f"{key}:building", f"{key}:touched", pts, mem, expire_at, BUILD_TTL_S)
    for keys, members in removals:
        for key in keys:
            pipe.zrem(key, *members)
    results = pipe.execute(raise_on_error=False)
    failed = [op for op, res in zip(ops, results, strict=False) if isinstance(res, NoScriptError)]
    errors = [res for res in results if isinstance(res, Exception) and not isinstance(res, NoScriptError)]
    if errors:
        raise errors[0]
    if failed:
        r.script_load(INCR_IF_EXISTS)
        _send(r, failed, [])


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop(PENDING, None)


def rebuild(session: Session, r: Any, key: str, contest_id: int, scope: Scope, period_key: str,
            expire_at: datetime | None = None) -> int:
    """Copy one board's SQL totals into Redis (via a temporary key and RENAME, so readers never see half).

    Increments committed while the copy is made would be lost: the board is missing, so they are skipped,
    and the SQL read may have started before their commit. So the rebuild first raises a marker
    (``<key>:building``, a counter: rebuilds may overlap); while it is up, every increment also notes its
    member in ``<key>:touched``. After the RENAME those members get their exact SQL totals, read again on a
    fresh connection, until a round ends with nobody touched; only then does the marker come down. A
    member can be noted twice, never lost; an increment racing the fix-up is noted again and fixed in the
    next round. If the board keeps moving for ``FIX_ROUNDS`` rounds it is dropped, to be rebuilt on the
    next read.
    """
    from scoring.models import LeaderboardTotal

    marker = f"{key}:building"
    pipe = r.pipeline(transaction=False)
    pipe.incr(marker)
    pipe.expire(marker, BUILD_TTL_S)
    pipe.execute()
    try:
        q = (select(LeaderboardTotal.subject_id, LeaderboardTotal.points)
             .where(LeaderboardTotal.contest_id == contest_id, LeaderboardTotal.scope == scope,
                    LeaderboardTotal.period_key == period_key)
             .execution_options(yield_per=20000))
        tmp = f"{key}:rebuild"
        r.delete(tmp)
        count = 0
        chunk: dict[str, int] = {}
        pipe = r.pipeline(transaction=False)
        for sid, pts in session.execute(q):
            chunk[member(sid)] = int(pts)
            count += 1
            if len(chunk) >= 5000:
                pipe.zadd(tmp, chunk)
                chunk = {}
                if len(pipe) >= 20:
                    pipe.execute()
        if chunk:
            pipe.zadd(tmp, chunk)
        pipe.execute()
        if not count:
            return 0
        r.rename(tmp, key)
        if expire_at is not None:
            r.expireat(key, expire_ts(expire_at))
        if not _settle(session, r, key, contest_id, scope, period_key):
            r.delete(key)
            return 0
        return count
    finally:
        _lower(r, marker)


TAKE = """
local members = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
return members
"""


def _settle(session: Session, r: Any, key: str, contest_id: int, scope: Scope, period_key: str) -> bool:
    """Give every member touched during the rebuild its exact SQL total; False if it never calmed down."""
    from scoring.models import LeaderboardTotal

    take = r.register_script(TAKE)
    for _ in range(FIX_ROUNDS):
        members = take(keys=[f"{key}:touched"])
        if not members:
            return True
        ids = [subject(m) for m in members]
        with session.get_bind().connect() as conn:  # a fresh snapshot: commits since the copy are seen
            exact = dict(conn.execute(select(LeaderboardTotal.subject_id, LeaderboardTotal.points).where(
                LeaderboardTotal.contest_id == contest_id, LeaderboardTotal.scope == scope,
                LeaderboardTotal.period_key == period_key, LeaderboardTotal.subject_id.in_(ids))).all())
        pipe = r.pipeline(transaction=False)
        for sid in ids:
            if sid in exact:
                pipe.zadd(key, {member(sid): int(exact[sid])})
            else:
                pipe.zrem(key, member(sid))
        pipe.execute()
    return False


LOWER = """
if redis.call('DECR', KEYS[1]) <= 0 then redis.call('DEL', KEYS[1]) end
return 1
"""


def _lower(r: Any, marker: str) -> None:
    try:
        r.register_script(LOWER)(keys=[marker])
    except Exception:  # the marker expires on its own
        log.exception("could not lower the rebuild marker %s", marker)


def drop_contest(r: Any, pfx: str, contest_id: int) -> None:
    keys = list(r.scan_iter(match=contest_pattern(pfx, contest_id), count=1000))
    for start in range(0, len(keys), 500):
        r.delete(*keys[start:start + 500])
