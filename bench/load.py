"""A closed-loop HTTP load driver on loopback, and the percentile arithmetic its figures use.

Why processes: each client runs in its own process (``multiprocessing``, fork on Linux), so the GIL of one
driver process never caps the load. Why few of them: the machine has 2 cores that the gunicorn workers (and
a local PostgreSQL) need too; every CPU cycle the driver burns is taken from the server. The default,
:func:`default_clients` = 2 closed-loop clients per gunicorn worker, keeps one request queued at each sync
worker while it answers another, so no worker idles between requests, without more client loops competing
for the cores. Measured on the 2-core box with the baseline on PostgreSQL: 1 client/worker gave ~715 req/s,
2 gave ~745, 3 gave ~757 with higher p99; the driver itself used 15-20% of the CPU. Its own share is
measured and printed (``LoadResult.driver_cpu_share``), so a starved server shows.

Why ``http.client``: it is the cheapest well-behaved HTTP/1.1 client in the standard library (``requests``
costs several times more CPU per call). Connections are keep-alive; gunicorn's default sync workers answer
``Connection: close``, in which case ``http.client`` reconnects for the next request by itself (a loopback
connect is tens of microseconds, paid the same by the baseline and the service).
"""

from __future__ import annotations

import http.client
import math
import multiprocessing
import os
import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

DEFAULT_CLIENTS_PER_WORKER = 2


@dataclass(frozen=True)
class Request:
    """One HTTP request the driver sends; ``headers`` are added to ``Content-Type: application/json``."""

    method: str
    path: str
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()


# A request factory is called as factory(client_index, seq) for every request a client sends. The pair is
# unique within one drive() call, and across calls when each call gets a higher drive(seq_start=...).
# Make it a module-level function, a class instance or a functools.partial (picklable), and keep a per-run
# nonce in it if bodies must be unique across separate servers or runs (external ids, Idempotency-Keys).
RequestFactory = Callable[[int, int], Request]


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0..100) with linear interpolation between ranks (numpy's default); NaN if empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    rank = (len(ordered) - 1) * (p / 100.0)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


class _Percentiles:
    """p50/p99 in milliseconds of a ``latencies`` tuple in seconds (shared by HTTP and call-loop stats)."""

    latencies: tuple[float, ...]

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies, 50) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies, 99) * 1000


@dataclass(frozen=True)
class LoadResult(_Percentiles):
    """What one load run measured. Latencies are per request, in seconds, for the measured window only."""

    clients: int
    seconds: float
    ok: int
    errors: int
    statuses: dict[int, int]
    latencies: tuple[float, ...] = field(repr=False)
    driver_cpu_seconds: float = 0.0

    @property
    def requests_per_s(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else 0.0

    @property
    def driver_cpu_share(self) -> float:
        """Fraction of the machine's CPU time the driver itself used (0.1 = 10% of all cores)."""
        cores = os.cpu_count() or 1
        return self.driver_cpu_seconds / (self.seconds * cores) if self.seconds > 0 else 0.0

    def summary(self) -> str:
        codes = ", ".join(f"{code or 'conn-error'}: {n}" for code, n in sorted(self.statuses.items()))
        rate = f"{self.requests_per_s:,.0f}" if self.requests_per_s >= 10 else f"{self.requests_per_s:.2f}"
        return (f"{rate} req/s ({self.ok} ok), p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms, "
                f"{self.errors} errors ({codes}); {self.clients} clients x {self.seconds:.1f} s, "
                f"driver used {self.driver_cpu_share:.0%} CPU")


def default_clients(workers: int) -> int:
    """Two closed-loop clients per gunicorn worker: see the module docstring for why."""
    return max(1, workers * DEFAULT_CLIENTS_PER_WORKER)


@dataclass
class _ClientReport:
    latencies: bytes
    statuses: Counter[int]
    errors: int
    cpu_seconds: float
    measured_seconds: float
    failure: str | None = None


def _send(conn: http.client.HTTPConnection, req: Request) -> int:
    headers = {"Content-Type": "application/json", **dict(req.headers)} if req.body is not None else dict(req.headers)
    conn.request(req.method, req.path, body=req.body, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status


def _client(index: int, host: str, port: int, factory: RequestFactory, warmup: float, duration: float,
            expect: frozenset[int], seq: int, barrier: Any, out: Any) -> None:
    conn = http.client.HTTPConnection(host, port, timeout=60)
    latencies = array("d")
    statuses: Counter[int] = Counter()
    errors = 0
    try:
        barrier.wait(timeout=60)
        cpu_start = os.times()
        start = time.perf_counter()
        measure_from, end = start + warmup, start + warmup + duration
        last = measure_from
        while time.perf_counter() < end:
            req = factory(index, seq)
            seq += 1
            t0 = time.perf_counter()
            try:
                status = _send(conn, req)
            except (OSError, http.client.HTTPException):
                conn.close()
                status = 0
            t1 = time.perf_counter()
            if t0 < measure_from:
                continue
            statuses[status] += 1
            last = t1
            if status in expect:
                latencies.append(t1 - t0)
            else:
                errors += 1
        cpu_end = os.times()
        cpu = (cpu_end.user - cpu_start.user) + (cpu_end.system - cpu_start.system)
        out.put(_ClientReport(latencies.tobytes(), statuses, errors, cpu, last - measure_from))
    except Exception as exc:  # report, so the parent can say what broke instead of hanging
        out.put(_ClientReport(b"", Counter(), 0, 0.0, 0.0, failure=f"client {index}: {exc!r}"))
    finally:
        conn.close()


def drive(host: str, port: int, factory: RequestFactory, *, clients: int = 4, duration: float = 5.0,
          warmup: float = 1.0, expect: Iterable[int] = (200, 201), seq_start: int = 0) -> LoadResult:
    """Run ``clients`` closed-loop client processes against host:port; measure ``duration`` s after ``warmup``.

    Each client sends one request, waits for the whole answer, and sends the next (keep-alive). A status not
    in ``expect`` or a connection error counts as an error, not as throughput. Requests sent during the
    warm-up (connections, the workers' first-request imports and statement caches) are not counted.
    Every client numbers its requests from ``seq_start``: give later runs against the same server a higher
    start so (client, seq) stays unique across runs (:func:`bench.harness.measure_alternating` does).
    """
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    barrier = ctx.Barrier(clients + 1)
    out = ctx.Queue()
    expected = frozenset(expect)
    procs = [ctx.Process(target=_client, daemon=True,
                         args=(i, host, port, factory, warmup, duration, expected, seq_start, barrier, out))
             for i in range(clients)]
    for proc in procs:
        proc.start()
    barrier.wait(timeout=60)
    reports = [out.get(timeout=warmup + duration + 120) for _ in procs]
    for proc in procs:
        proc.join(timeout=10)
    failures = [r.failure for r in reports if r.failure]
    if failures:
        raise RuntimeError("load driver failed: " + "; ".join(failures))
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    for report in reports:
        lat = array("d")
        lat.frombytes(report.latencies)
        latencies.extend(lat)
        statuses.update(report.statuses)
    seconds = max([duration, *(r.measured_seconds for r in reports)])
    return LoadResult(clients=clients, seconds=seconds, ok=len(latencies), errors=sum(r.errors for r in reports),
                      statuses=dict(statuses), latencies=tuple(latencies),
                      driver_cpu_seconds=sum(r.cpu_seconds for r in reports))


def merge(results: Sequence[LoadResult]) -> LoadResult:
    """One result from several runs of the same load (rounds of an alternating comparison)."""
    statuses: Counter[int] = Counter()
    for result in results:
        statuses.update(result.statuses)
    return LoadResult(clients=max(r.clients for r in results), seconds=sum(r.seconds for r in results),
                      ok=sum(r.ok for r in results), errors=sum(r.errors for r in results), statuses=dict(statuses),
                      latencies=tuple(x for r in results for x in r.latencies),
                      driver_cpu_seconds=sum(r.driver_cpu_seconds for r in results))


@dataclass(frozen=True)
class CallStats(_Percentiles):
    """Timings of an in-process call loop (for benches whose baseline is not HTTP: Redis, send_each)."""

    calls: int
    seconds: float
    latencies: tuple[float, ...] = field(repr=False)

    @property
    def per_s(self) -> float:
        return self.calls / self.seconds if self.seconds > 0 else 0.0


def time_calls(fn: Callable[[int], object], *, calls: int | None = None, duration: float | None = None,
               warmup: int = 10) -> CallStats:
    """Call ``fn(i)`` ``calls`` times (or for ``duration`` s) after ``warmup`` uncounted calls; time each."""
    if (calls is None) == (duration is None):
        raise ValueError("give exactly one of calls or duration")
    for i in range(warmup):
        fn(-1 - i)
    latencies = array("d")
    start = time.perf_counter()
    end = start + (duration or 0.0)
    i = 0
    while (i < calls) if calls is not None else (time.perf_counter() < end):
        t0 = time.perf_counter()
        fn(i)
        latencies.append(time.perf_counter() - t0)
        i += 1
    return CallStats(calls=i, seconds=time.perf_counter() - start, latencies=tuple(latencies))
