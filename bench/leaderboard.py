"""Leaderboard reads at 1,000,000 participants: the service's module against the bare Redis commands it issues.

Prints, in one run: top-100 and around-me (k=5) p50/p99 through ``scoring.leaderboards`` on Redis, the
same for the bare pipelined Redis commands those calls send (same client, same keys, alternating rounds
so drift hits both), their p99 ratio (target <= 3x), and top-100 / around-me p99 on the SQL back end
with the EXPLAIN of every statement it ran (target: no Seq Scan / full SCAN of the board).

The board is loaded straight into LeaderboardTotal (COPY on PostgreSQL, executemany on SQLite) and into
Redis (pipelined ZADD): the ledger write path is not what is measured here. Rows are read with
``labels=False``: the synthetic participants have no user rows to name (labels cost one small
``WHERE id IN (...)`` query per page, the same on both back ends).

Run: ``.venv/bin/python -m bench.leaderboard`` (BENCH_DATABASE_URL / BENCH_REDIS_URL as for every bench;
Redis defaults to redis://127.0.0.1:6379/15 when reachable; BENCH_LB_PARTICIPANTS to change the size).
"""

from __future__ import annotations

import dataclasses
import gc
import io
import os
import random
import time
from collections.abc import Callable
from typing import Any

from bench.harness import BenchOptions, CallStats, Figure, at_most, bench_environment, compare, emit, time_calls
from bench.load import percentile

CONTEST = 1
TOP_N = 100
K = 5
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"


def _participants() -> int:
    return int(os.environ.get("BENCH_LB_PARTICIPANTS") or 1_000_000)


def _points(n: int, seed: int = 7) -> list[int]:
    """A long-tailed distribution with many ties, like real boards (most people have few points)."""
    rnd = random.Random(seed)
    return [int(rnd.expovariate(1 / 2500)) for _ in range(n)]


def _load_sql(session: Any, points: list[int]) -> float:
    started = time.perf_counter()
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        raw = conn.connection.dbapi_connection
        with raw.cursor() as cur, cur.copy("COPY leaderboard_totals (contest_id, scope, period_key, subject_id, "
                                           "points) FROM STDIN") as copy:
            buf = io.StringIO()
            for sid, pts in enumerate(points, start=1):
                buf.write(f"{CONTEST}\tuser\tall\t{sid}\t{pts}\n")
                if buf.tell() > 1 << 20:
                    copy.write(buf.getvalue())
                    buf = io.StringIO()
            copy.write(buf.getvalue())
        session.commit()
        session.connection().exec_driver_sql("ANALYZE leaderboard_totals")
        session.commit()
    else:
        from scoring.models import LeaderboardTotal

        rows = [{"contest_id": CONTEST, "scope": "user", "period_key": "all", "subject_id": sid, "points": pts}
                for sid, pts in enumerate(points, start=1)]
        for start in range(0, len(rows), 50_000):
            session.execute(LeaderboardTotal.__table__.insert(), rows[start:start + 50_000])
        session.commit()
    return time.perf_counter() - started


def _load_buckets(session: Any, points: list[int]) -> None:
    """The rank buckets the ledger's write path would have maintained for these totals."""
    from collections import Counter

    from scoring.buckets import bucket
    from scoring.models import LeaderboardBucket

    counts = Counter(b for b in map(bucket, points) if b is not None)
    session.execute(LeaderboardBucket.__table__.insert(), [
        {"contest_id": CONTEST, "scope": "user", "period_key": "all", "bucket": b, "count": n}
        for b, n in sorted(counts.items())])
    session.commit()


def _load_redis(r: Any, key: str, points: list[int]) -> float:
    from scoring.boards.redis_write import member

    started = time.perf_counter()
    r.delete(key)
    pipe = r.pipeline(transaction=False)
    for start in range(0, len(points), 10_000):
        pipe.zadd(key, {member(sid): pts for sid, pts in enumerate(points[start:start + 10_000], start=start + 1)})
        if len(pipe) >= 10:
            pipe.execute()
    pipe.execute()
    return time.perf_counter() - started


def _bare_top(r: Any, key: str) -> Callable[[int], object]:
    def call(_: int) -> object:
        pipe = r.pipeline(transaction=False)
        pipe.exists(key)
        pipe.zrevrange(key, 0, TOP_N - 1, withscores=True)
        return pipe.execute()
    return call


def _bare_around(r: Any, key: str, subjects: list[int]) -> Callable[[int], object]:
    from scoring.boards.redis_write import member

    def call(i: int) -> object:
        mem = member(subjects[i % len(subjects)])
        pipe = r.pipeline(transaction=False)
        pipe.exists(key)
        pipe.zrevrank(key, mem)
        pipe.zscore(key, mem)
        _, pos, score = pipe.execute()
        start = max(0, pos - K)
        pipe = r.pipeline(transaction=False)
        pipe.zrevrange(key, start, pos + K, withscores=True)
        pipe.zcount(key, f"({int(score)}", "+inf")
        rows, above = pipe.execute()
        if start > 0 and int(rows[0][1]) != int(score):  # the module's extra rank lookup for the first row
            r.zcount(key, f"({int(rows[0][1])}", "+inf")
        return rows, above
    return call


def _alternate(pairs: dict[str, Callable[[int], object]], seconds: float, rounds: int = 3) -> dict[str, CallStats]:
    """Alternate the callables in short rounds (A B, B A, ...) and merge each one's latencies."""
    names = list(pairs)
    merged: dict[str, list[float]] = {n: [] for n in names}
    calls = dict.fromkeys(names, 0)
    spent = dict.fromkeys(names, 0.0)
    for rnd in range(rounds):
        order = names if rnd % 2 == 0 else names[::-1]
        for name in order:
            stats = time_calls(pairs[name], duration=seconds / rounds, warmup=20)
            merged[name] += stats.latencies
            calls[name] += stats.calls
            spent[name] += stats.seconds
    return {n: CallStats(calls=calls[n], seconds=spent[n], latencies=tuple(merged[n])) for n in names}


def _line(label: str, stats: CallStats) -> None:
    print(f"   {label:<38} p50 {stats.p50_ms:7.3f} ms  p99 {stats.p99_ms:7.3f} ms  ({stats.calls} calls)", flush=True)


def _explain(session: Any, fn: Callable[[], object]) -> list[tuple[str, str]]:
    """Run ``fn`` once, capture its SQL, and return (statement, plan) for each statement."""
    from sqlalchemy import event

    captured: list[tuple[str, Any]] = []
    engine = session.get_bind()

    def grab(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    plans = []
    conn = session.connection()
    prefix = "EXPLAIN " if conn.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
    for statement, parameters in captured:
        rows = conn.exec_driver_sql(prefix + statement, parameters).all()
        plan = "\n".join(str(r[0]) if conn.dialect.name == "postgresql" else str(r[-1]) for r in rows)
        plans.append((" ".join(statement.split())[:150], plan))
    return plans


def _scans(plan: str) -> bool:
    upper = plan.upper()
    if "SEQ SCAN" in upper:
        return True
    return any(line.strip().startswith("SCAN") and "INDEX" not in line for line in upper.splitlines())


def run(options: BenchOptions) -> list[Figure]:
    if not options.redis_url:
        try:
            import redis

            redis.Redis.from_url(DEFAULT_REDIS).ping()
            options = dataclasses.replace(options, redis_url=DEFAULT_REDIS)
        except Exception:
            print("   no Redis reachable: only the SQL back end is measured", flush=True)
    from scoring import leaderboards
    from scoring.boards import redis_write
    from scoring.types import Period, Scope
    from service.db import db

    n = _participants()
    points = _points(n)
    rnd = random.Random(11)
    subjects = [rnd.randint(1, n) for _ in range(5000)]
    figures: list[Figure] = []
    seconds = max(2.0, options.duration)
    with bench_environment(options) as env:
        app = env.app()
        with app.app_context():
            session = db.session
            took = _load_sql(session, points)
            _load_buckets(session, points)
            print(f"   loaded {n:,} participants into leaderboard_totals in {took:.1f} s "
                  f"({session.get_bind().dialect.name})", flush=True)
            r = app.extensions.get("vcc_redis")
            if r is not None:
                key = redis_write.board_key(redis_write.prefix(), CONTEST, Scope.USER, "all")
                print(f"   loaded {n:,} members into {key} in {_load_redis(r, key, points):.1f} s", flush=True)

                def top(_: int) -> object:
                    return leaderboards.board(session, CONTEST, Scope.USER, Period.ALL, limit=TOP_N, labels=False)

                def around(i: int) -> object:
                    return leaderboards.around(session, CONTEST, Scope.USER, Period.ALL, subjects[i % len(subjects)],
                                               K, labels=False)

                # the million-element seed lists are bench artefacts a service process never holds: keep the
                # cyclic GC from rescanning them inside the timed calls (it would charge whichever side ran)
                gc.collect()
                gc.freeze()
                got = top(0).rows  # type: ignore[attr-defined]
                assert len(got) == TOP_N and got[0].rank == 1, "module read back a wrong board"
                stats = _alternate({"module top": top, "bare top": _bare_top(r, key)}, seconds)
                stats |= _alternate({"module around": around, "bare around": _bare_around(r, key, subjects)},
                                    seconds)
                for name, s in stats.items():
                    _line(f"redis {name}-{TOP_N if 'top' in name else K}", s)
                for what in ("top", "around"):
                    m, b = stats[f"module {what}"], stats[f"bare {what}"]
                    figures.append(emit(compare(f"leaderboard {what} p99 on Redis (module vs bare commands)",
                                                m.p99_ms, b.p99_ms, "ms", at_most(3.0),
                                                note=f"p50 {m.p50_ms:.3f} vs {b.p50_ms:.3f} ms")))
                app.extensions.pop("vcc_redis")
            sql_top = time_calls(lambda _: leaderboards.board(session, CONTEST, Scope.USER, Period.ALL, limit=TOP_N,
                                                              labels=False), duration=seconds, warmup=5)
            sql_around = time_calls(lambda i: leaderboards.around(session, CONTEST, Scope.USER, Period.ALL,
                                                                  subjects[i % len(subjects)], K, labels=False),
                                    duration=seconds, warmup=5)
            _line(f"sql top-{TOP_N}", sql_top)
            _line(f"sql around-me k={K}", sql_around)
            worst = max(range(1, n + 1), key=lambda s: (-points[s - 1], s))  # a last-placed participant
            plans = _explain(session, lambda: leaderboards.board(session, CONTEST, Scope.USER, Period.ALL,
                                                                 limit=TOP_N, labels=False))
            plans += _explain(session, lambda: leaderboards.around(session, CONTEST, Scope.USER, Period.ALL, worst,
                                                                   K, labels=False))
            scanning = [s for s, p in plans if _scans(p)]
            for statement, plan in plans:
                print(f"   EXPLAIN {statement}\n      " + plan.replace("\n", "\n      "), flush=True)
            print(f"   SQL statements with a full scan of the board: {len(scanning)} of {len(plans)}", flush=True)
            lat = sorted(sql_around.latencies)
            print(f"   sql around-me p50 {percentile(lat, 50) * 1000:.2f} ms p99 {percentile(lat, 99) * 1000:.2f} ms "
                  "(rank = bucket counts above + an index range count inside my bucket)", flush=True)
            session.rollback()
    from bench.report import absolute

    figures.append(emit(absolute(f"leaderboard top-{TOP_N} p99 on SQL", sql_top.p99_ms, "ms")))
    figures.append(emit(absolute("leaderboard around-me p99 on SQL", sql_around.p99_ms, "ms",
                                 note=f"{len(scanning)} scanning statements")))
    return figures


if __name__ == "__main__":
    run(BenchOptions.from_env())
