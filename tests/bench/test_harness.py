"""Smoke tests of the benchmark harness: it serves, drives, counts and prints; timings are never asserted."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bench.baseline_app import create_app, create_tables
from bench.harness import (
    BaselineRequests,
    BenchOptions,
    Load,
    Server,
    baseline_request,
    bench_environment,
    compare,
    drive,
    measure_alternating,
    percentile,
    serve,
)
from bench.report import absolute, at_least, at_most


@pytest.fixture
def baseline_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'baseline.sqlite3'}"
    create_tables(url)
    return url


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    """One gunicorn baseline for the driver tests (starting gunicorn is most of their time)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('bench') / 'baseline.sqlite3'}"
    create_tables(url)
    with serve("bench.baseline_app:create_app()", {"BENCH_BASELINE_DATABASE_URL": url}, workers=1) as server:
        yield server, url


def _count(url: str, nonce: str) -> tuple[int, int]:
    """(rows, distinct external ids) stored by the factory with this nonce."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return tuple(conn.execute(text(  # type: ignore[return-value]
                "SELECT count(*), count(DISTINCT external_id) FROM bench_baseline_activity "
                "WHERE external_id LIKE :prefix"), {"prefix": f"{nonce}-%"}).one())
    finally:
        engine.dispose()


def test_driver_measures_requests_against_baseline_under_gunicorn_and_each_is_one_stored_row(
        served: tuple[Server, str]) -> None:
    server, url = served
    factory = BaselineRequests()
    result = drive(server.host, server.port, factory, clients=2, duration=0.5, warmup=0.1, expect=(201,))
    assert result.ok > 0
    assert result.errors == 0
    assert result.statuses == {201: result.ok}
    assert result.requests_per_s > 0 and result.p50_ms > 0 and result.p99_ms >= result.p50_ms
    rows, distinct = _count(url, factory.nonce)
    assert rows == distinct >= result.ok  # warm-up requests are stored too, but not counted


def test_alternating_rounds_keep_bodies_unique_and_merge_every_round(served: tuple[Server, str]) -> None:
    server, url = served
    factory = BaselineRequests()
    options = BenchOptions(workers=1, clients=1, duration=0.4, warmup=0.1)
    results = measure_alternating({"a": Load(server, factory, (201,))}, options, rounds=2)
    assert results["a"].ok > 0 and results["a"].errors == 0
    rows, distinct = _count(url, factory.nonce)
    assert rows == distinct >= results["a"].ok


def test_driver_counts_unexpected_statuses_as_errors_not_throughput(served: tuple[Server, str]) -> None:
    server, _ = served
    result = drive(server.host, server.port, BaselineRequests(), clients=1, duration=0.2, warmup=0.0, expect=(200,))
    assert result.ok == 0
    assert result.errors == result.statuses[201] > 0
    assert math.isnan(result.p50_ms)


def test_baseline_rejects_a_malformed_body_with_400_and_stores_nothing(baseline_url: str) -> None:
    client = create_app(baseline_url).test_client()
    assert client.post("/insert", json={"user_id": 1}).status_code == 400
    assert client.post("/insert", data="nope", content_type="application/json").status_code == 400
    assert _count(baseline_url, "adhoc") == (0, 0)
    ok = client.post("/insert", data=baseline_request(0, 0).body, content_type="application/json")
    assert ok.status_code == 201 and ok.get_json()["id"] == 1
    assert _count(baseline_url, "adhoc") == (1, 1)


def test_bench_environment_gives_a_database_migrated_to_head_and_removes_it() -> None:
    with bench_environment(BenchOptions()) as env:
        path = Path(env.database_url.removeprefix("sqlite:///"))
        engine = create_engine(env.database_url)
        with engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        engine.dispose()
        assert version
        assert env.service_env()["RATELIMIT_ENABLED"] == "false"
    assert not path.exists()


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([5.0], 99) == 5.0
    assert percentile(list(range(101)), 99) == 99.0
    assert math.isnan(percentile([], 50))


def test_figures_print_value_baseline_ratio_and_target_verdict() -> None:
    line = compare("ingest single POST", 812, 1010, "req/s", at_least(0.70)).line()
    assert line == "ingest single POST: 812 req/s vs baseline 1,010 req/s = 80% (target >= 70%) ok"
    slow = compare("leaderboard around-me p99", 4.2, 1.0, "ms", at_most(3.0))
    assert slow.met is False and slow.line().endswith("= 4.20x (target <= 3.00x) MISSED")
    batch = absolute("batch scored", 25_000, "activities/s", target=20_000)
    assert batch.met is True and batch.line() == "batch scored: 25,000 activities/s (target >= 20,000 activities/s) ok"
    planning = absolute("plan 100k nudges", 12.5, "s", target=10, higher_is_better=False)
    assert planning.met is False


def test_profile_attributes_time_to_packages_and_refuses_error_answers(baseline_url: str) -> None:
    from bench.profiling import profile_requests

    app = create_app(baseline_url)
    prof = profile_requests(app, BaselineRequests(), requests=20, warmup=2, expect=(201,))
    packages = dict(prof.by_package())
    assert prof.statuses == {201: 20}
    assert packages["sqlalchemy"] > 0 and math.isclose(sum(packages.values()), 1.0, rel_tol=1e-6)
    assert "hotspots by own time" in prof.report()
    with pytest.raises(RuntimeError, match="answered"):
        profile_requests(app, BaselineRequests(), requests=2, warmup=0, expect=(200,))


def test_sampler_sees_the_request_thread_in_sqlalchemy(baseline_url: str) -> None:
    from bench.profiling import sample_requests

    samples = sample_requests(create_app(baseline_url), BaselineRequests(), requests=15, warmup=2, expect=(201,))
    assert samples.samples > 0 and samples.requests == 15
    assert samples.own_package["sqlalchemy"] > 0
    assert "leaf frame by package" in samples.report()


def test_absent_bench_module_is_skipped_with_a_line_saying_so(capsys: pytest.CaptureFixture[str]) -> None:
    from bench.__main__ import _load, _parse

    assert _load("not_written_yet") is None
    assert "bench.not_written_yet: not present, skipped" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        _parse(["no-such-bench"])


def test_floor_app_authenticates_validates_and_stores_one_row_per_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """The floor is the real service stack: no token is a 401, a bad body a 422, a good one exactly one row."""
    from bench import floor_app
    from bench.ingest import FloorRequests, SingleRequests, seed

    with bench_environment(BenchOptions()) as env:
        create_tables(env.database_url)
        for key, value in env.service_env(BENCH_BASELINE_DATABASE_URL=env.database_url).items():
            monkeypatch.setenv(key, value)
        tokens, base = seed(env.app(), users=2)
        app = floor_app.create_app()
        client = app.test_client()
        single = SingleRequests(tuple(tokens), base, clients=1)
        for k in floor_app.EXTRA_STATEMENTS:
            req = FloorRequests(single, k)(0, k)
            headers = {**dict(req.headers), "Content-Type": "application/json"}
            assert client.post(req.path, data=req.body, headers=headers).status_code == 201
            assert client.post(req.path, data=req.body, content_type="application/json").status_code == 401
            assert client.post(req.path, data=b'{"type": 3}', headers=headers).status_code == 422
        engine = create_engine(env.database_url)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT count(*) FROM bench_baseline_activity")).scalar_one()
        engine.dispose()
        assert rows == len(floor_app.EXTRA_STATEMENTS)
