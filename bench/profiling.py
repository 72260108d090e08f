"""In-process profiling of one endpoint with cProfile, reported as hotspots with percentages.

Throughput benches say *how much* slower the service is than its baseline; this says *where* the time
goes. It drives ``app.test_client()`` with the same request factories the load driver uses, so a bench
author profiles exactly the requests they measure::

    from bench.profiling import profile_requests
    prof = profile_requests(env.app(), MyRequests(tokens), requests=500)
    print(prof.report())

The test client adds its own cost (building a WSGI environ per request); it shows up under ``werkzeug``
and ``flask.testing`` and is not something gunicorn pays, so read the project rows and the library rows
below the request entry point.
"""

from __future__ import annotations

import cProfile
import pstats
import re
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.load import Request, RequestFactory

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = ("service", "scoring", "challenges", "notifications", "bench")

# (file, line, function) -> (primitive calls, total calls, tottime, cumtime, callers)
_Key = tuple[str, int, str]


_C_OWNER = re.compile(r"(?:of '|built-in method )_?([A-Za-z0-9]+)[.']")


def _package(filename: str, func: str = "") -> str:
    """A coarse owner for a function: our package, a library, the stdlib module, or the C module it is in."""
    if filename.startswith("~") or filename.startswith("<"):
        match = _C_OWNER.search(func)
        return f"C:{match.group(1)}" if match else "C:builtins"
    path = Path(filename)
    parts = path.parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].removesuffix(".py")
    try:
        rel = path.resolve().relative_to(PROJECT_ROOT)
        return rel.parts[0].removesuffix(".py")
    except ValueError:
        return f"stdlib:{path.stem if path.parent.name.startswith('python3') else path.parent.name}"


def _name(key: _Key) -> str:
    filename, line, func = key
    if filename.startswith("~"):
        return func
    path = Path(filename)
    parts = path.parts
    if "site-packages" in parts:
        shown = "/".join(parts[parts.index("site-packages") + 1:])
    else:
        try:
            shown = str(path.resolve().relative_to(PROJECT_ROOT))
        except ValueError:
            shown = path.name
    return f"{shown}:{line}({func})"


@dataclass
class Profile:
    """The stats of ``requests`` profiled requests, with per-request and percentage views."""

    stats: pstats.Stats
    requests: int
    statuses: dict[int, int]

    @property
    def total(self) -> float:
        return float(self.stats.total_tt)  # type: ignore[attr-defined]

    def _entries(self) -> dict[_Key, Any]:
        return self.stats.stats  # type: ignore[attr-defined, no-any-return]

    def by_package(self) -> list[tuple[str, float]]:
        """Own time (tottime) per package as a share of all profiled time, largest first."""
        shares: dict[str, float] = defaultdict(float)
        for key, (_, _, tottime, _, _) in self._entries().items():
            shares[_package(key[0], key[2])] += tottime
        return sorted(((pkg, t / self.total) for pkg, t in shares.items()), key=lambda x: -x[1])

    def hotspots(self, top: int = 20) -> list[tuple[str, float, int]]:
        """Functions by own time: (name, share of total, calls per request)."""
        rows = sorted(self._entries().items(), key=lambda kv: -kv[1][2])[:top]
        return [(_name(k), v[2] / self.total, round(v[1] / self.requests)) for k, v in rows]

    def project_cumulative(self, top: int = 25) -> list[tuple[str, float, int]]:
        """Our own functions by cumulative time (callees included): which step of the path costs what."""
        rows = [(k, v) for k, v in self._entries().items() if _package(k[0]) in PROJECT_PACKAGES
                and _package(k[0]) != "bench"]
        rows.sort(key=lambda kv: -kv[1][3])
        return [(_name(k), v[3] / self.total, round(v[1] / self.requests)) for k, v in rows[:top]]

    def report(self, top: int = 20) -> str:
        per_request_ms = self.total / self.requests * 1000
        lines = [f"{self.requests} requests, {per_request_ms:.2f} ms profiled per request "
                 f"(cProfile inflates this), statuses {self.statuses}", "", "own time by package:"]
        lines += [f"  {share:6.1%}  {pkg}" for pkg, share in self.by_package()[:15]]
        lines += ["", "project functions by cumulative time (calls/request):"]
        lines += [f"  {share:6.1%}  {calls:>4}x  {name}" for name, share, calls in self.project_cumulative(top)]
        lines += ["", "hotspots by own time (calls/request):"]
        lines += [f"  {share:6.1%}  {calls:>4}x  {name}" for name, share, calls in self.hotspots(top)]
        return "\n".join(lines)


def _send(client: Any, req: Request) -> int:
    headers = dict(req.headers)
    if req.body is not None:
        headers.setdefault("Content-Type", "application/json")
    return int(client.open(req.path, method=req.method, data=req.body, headers=headers).status_code)


def profile_requests(app: Any, factory: RequestFactory, *, requests: int = 500, warmup: int = 50,
                     client_index: int = 0, seq_start: int = 0, expect: tuple[int, ...] = (200, 201)) -> Profile:
    """Send ``warmup`` unprofiled then ``requests`` profiled requests through ``app.test_client()``.

    Requests are ``factory(client_index, seq)`` for seq = seq_start, seq_start + 1, ... (warm-up first); give
    a later call on the same data a higher ``seq_start`` or another client index. Raises if a profiled request
    answers outside ``expect``: a profile of error answers misleads.
    """
    client = app.test_client()
    for seq in range(seq_start, seq_start + warmup):
        _send(client, factory(client_index, seq))
    statuses: dict[int, int] = defaultdict(int)
    profiler = cProfile.Profile()
    for seq in range(seq_start + warmup, seq_start + warmup + requests):
        req = factory(client_index, seq)
        profiler.enable()
        status = _send(client, req)
        profiler.disable()
        statuses[status] += 1
    bad = {code: n for code, n in statuses.items() if code not in expect}
    if bad:
        raise RuntimeError(f"profiled requests answered {bad}; fix the factory before reading a profile")
    return Profile(pstats.Stats(profiler), requests, dict(statuses))


@dataclass
class Samples:
    """Stack samples of the request thread: inclusive share of each frame, without cProfile's distortion."""

    inclusive: Counter[tuple[str, str]]  # (package, frame name) -> samples it was on the stack
    own_package: Counter[str]
    samples: int
    requests: int
    seconds: float

    def report(self, top: int = 30) -> str:
        lines = [f"{self.requests} requests, {self.seconds / self.requests * 1000:.2f} ms per request while "
                 f"sampled, {self.samples} samples", "", "project frames, inclusive share of samples:"]
        rows = [(name, n) for (pkg, name), n in self.inclusive.most_common()
                if pkg in PROJECT_PACKAGES and pkg != "bench"]
        lines += [f"  {n / self.samples:6.1%}  {name}" for name, n in rows[:top]]
        lines += ["", "leaf frame by package:"]
        lines += [f"  {n / self.samples:6.1%}  {pkg}" for pkg, n in self.own_package.most_common(12)]
        return "\n".join(lines)


def sample_requests(app: Any, factory: RequestFactory, *, requests: int = 500, warmup: int = 50,
                    client_index: int = 0, seq_start: int = 0, interval: float = 0.0005,
                    expect: tuple[int, ...] = (200, 201)) -> Samples:
    """Like :func:`profile_requests`, but a sampling thread reads the request thread's stack every ``interval``.

    cProfile charges every Python call, which inflates call-heavy code (SQLAlchemy's statement building)
    against C work (the driver); samples keep the real proportions, at the price of noise on small shares.
    The requests are built before sampling starts, so the factory's own cost is not in the samples.
    """
    client = app.test_client()
    for seq in range(seq_start, seq_start + warmup):
        _send(client, factory(client_index, seq))
    prepared = [factory(client_index, seq) for seq in range(seq_start + warmup, seq_start + warmup + requests)]
    target = threading.get_ident()
    inclusive: Counter[tuple[str, str]] = Counter()
    leaves: Counter[str] = Counter()
    done = threading.Event()
    count = [0]

    def sampler() -> None:
        while not done.is_set():
            frame = sys._current_frames().get(target)
            seen: set[tuple[str, str]] = set()
            leaf = True
            while frame is not None:
                code = frame.f_code
                pkg = _package(code.co_filename, code.co_name)
                key = (pkg, f"{_name((code.co_filename, 0, code.co_name)).rsplit(':', 1)[0]}:{code.co_name}")
                if leaf:
                    leaves[pkg] += 1
                    leaf = False
                if key not in seen:
                    inclusive[key] += 1
                    seen.add(key)
                frame = frame.f_back
            count[0] += 1
            time.sleep(interval)

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(interval / 2)
    thread = threading.Thread(target=sampler, daemon=True)
    statuses: Counter[int] = Counter()
    started = time.perf_counter()
    thread.start()
    try:
        for req in prepared:
            statuses[_send(client, req)] += 1
    finally:
        done.set()
        thread.join()
        sys.setswitchinterval(old_interval)
    seconds = time.perf_counter() - started
    bad = {code: n for code, n in statuses.items() if code not in expect}
    if bad:
        raise RuntimeError(f"sampled requests answered {bad}; fix the factory before reading samples")
    return Samples(inclusive, leaves, count[0], requests, seconds)
