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
from collections import defaultdict
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
                     client_index: int = 0, expect: tuple[int, ...] = (200, 201)) -> Profile:
    """Send ``warmup`` unprofiled then ``requests`` profiled requests through ``app.test_client()``.

    Raises if a profiled request answers outside ``expect``: a profile of error answers misleads.
    """
    client = app.test_client()
    for seq in range(warmup):
        _send(client, factory(client_index, 50_000_000 + seq))
    statuses: dict[int, int] = defaultdict(int)
    profiler = cProfile.Profile()
    for seq in range(requests):
        req = factory(client_index, 60_000_000 + seq)
        profiler.enable()
        status = _send(client, req)
        profiler.disable()
        statuses[status] += 1
    bad = {code: n for code, n in statuses.items() if code not in expect}
    if bad:
        raise RuntimeError(f"profiled requests answered {bad}; fix the factory before reading a profile")
    return Profile(pstats.Stats(profiler), requests, dict(statuses))
