"""``python -m bench`` (what ``make bench`` runs): every bench module present, then a summary of its figures.

A missing module is skipped with a line saying so (the benches arrive with the issues that own them); a
module that crashes is reported and the others still run (exit status 1). When no bench module ran, the
harness measures the baseline against itself, which should print about 100% and proves the harness works.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
import traceback
from types import ModuleType

from bench.harness import (
    BaselineRequests,
    BenchOptions,
    Figure,
    Load,
    baseline_server,
    bench_environment,
    compare,
    emit,
    measure_alternating,
    summary,
)

MODULES = ("ingest", "leaderboard", "nudges")


def self_check(options: BenchOptions) -> list[Figure]:
    """Baseline against baseline (two servers, alternating rounds): a fair harness prints ~100% (+- noise)."""
    with bench_environment(options) as env, baseline_server(env, options) as first, \
            baseline_server(env, options) as second:
        results = measure_alternating({"first": Load(first, BaselineRequests(), (201,)),
                                       "second": Load(second, BaselineRequests(), (201,))}, options)
    for name, result in results.items():
        print(f"  baseline {name}: {result.summary()}", flush=True)
    return [emit(compare("harness self-check (baseline vs baseline)", results["second"].requests_per_s,
                         results["first"].requests_per_s, "req/s", note="expect about 100%"))]


def _load(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"bench.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"bench.{name}":
            print(f"-- bench.{name}: not present, skipped (bench/{name}.py arrives with its issue)", flush=True)
            return None
        raise


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE",
                        help=f"which benches to run (default: all of {', '.join(MODULES)})")
    parser.add_argument("--duration", type=float, help="measured seconds per load run (BENCH_DURATION, 5)")
    parser.add_argument("--warmup", type=float, help="uncounted warm-up seconds per load run (BENCH_WARMUP, 1)")
    parser.add_argument("--workers", type=int, help="gunicorn workers (BENCH_WORKERS, 2)")
    parser.add_argument("--clients", type=int, help="load-driver client processes (BENCH_CLIENTS, 2 per worker)")
    parser.add_argument("--self-check", action="store_true", help="also run baseline vs baseline")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.modules) - set(MODULES))
    if unknown:
        parser.error(f"unknown bench {', '.join(unknown)}; choose from {', '.join(MODULES)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    options = BenchOptions.from_env(duration=args.duration, warmup=args.warmup, workers=args.workers,
                                    clients=args.clients)
    tmp = tempfile.gettempdir()
    where = "PostgreSQL (BENCH_DATABASE_URL)" if options.database_url else f"SQLite (file under {tmp})"
    print(f"bench: {options.workers} gunicorn {options.worker_class} workers, {options.clients} client processes, "
          f"{options.duration:g} s measured after {options.warmup:g} s warm-up, database {where}"
          f"{', Redis ' + options.redis_url if options.redis_url else ''}", flush=True)
    if not options.database_url and not tmp.startswith("/dev/shm"):
        print("bench: note: SQLite on disk waits for an fsync per commit, which flattens every ratio; "
              "TMPDIR=/dev/shm or BENCH_DATABASE_URL=postgresql+psycopg://... give CPU-bound figures", flush=True)
    figures: list[Figure] = []
    failed: list[str] = []
    ran = 0
    for name in args.modules or MODULES:
        try:
            module = _load(name)
            if module is None:
                continue
            print(f"-- bench.{name}", flush=True)
            started = time.monotonic()
            figures += module.run(options)
            ran += 1
            print(f"   ({time.monotonic() - started:.0f} s)", flush=True)
        except Exception:
            failed.append(name)
            print(f"!! bench.{name} failed:\n{traceback.format_exc()}", file=sys.stderr, flush=True)
    if ran == 0 or args.self_check:
        print("-- harness self-check", flush=True)
        figures += self_check(options)
    print(summary(figures), flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    if args.strict and any(f.met is False for f in figures):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
