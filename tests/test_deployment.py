"""The deployment files: gunicorn.conf.py as gunicorn reads it, two real workers whose metrics add up in one
scrape, and deploy/install.sh (every step of the Dockerfile) run on this host into a temporary directory."""

from __future__ import annotations

import glob
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client import multiprocess
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SECRET = "test-secret-key-that-is-long-enough-for-hs256-0123456789"
TOKEN = "scrape-token-0123456789abcdef"
HEALTHZ = ("vcc_http_requests_total", (("endpoint", "/healthz"), ("method", "GET"), ("status", "200")))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, **headers: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return int(resp.status), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _healthz_count(text: str) -> float:
    return sum(s.value for family in text_string_to_metric_families(text) for s in family.samples
               if (s.name, tuple(sorted(s.labels.items()))) == HEALTHZ)


def _print_config(**env: str) -> dict[str, str]:
    out = subprocess.run([str(BIN / "gunicorn"), "--print-config", "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT,
                         env={**os.environ, **env}, capture_output=True, text=True, check=True).stdout
    return dict(re.findall(r"^(\w+)\s+= (.*)$", out, re.M))


def test_gunicorn_reads_the_config_file_with_its_declared_variables(tmp_path: Path) -> None:
    settings = _print_config(WEB_CONCURRENCY="3", TRUSTED_PROXIES="1", VCC_INSTANCE_PATH=str(tmp_path))
    assert {key: settings[key] for key in ("workers", "timeout", "graceful_timeout", "max_requests",
                                           "max_requests_jitter", "preload_app", "forwarded_allow_ips", "accesslog",
                                           "bind")} == {
        "workers": "3", "timeout": "60", "graceful_timeout": "30", "max_requests": "5000",
        "max_requests_jitter": "500", "preload_app": "True", "forwarded_allow_ips": "['*']", "accesslog": "None",
        "bind": "['0.0.0.0:8000']"}
    assert settings["child_exit"] == "<child_exit()>" and settings["post_fork"] == "<post_fork()>"
    no_proxy = _print_config(TRUSTED_PROXIES="0", VCC_INSTANCE_PATH=str(tmp_path))
    assert no_proxy["forwarded_allow_ips"] == "[]" and int(no_proxy["workers"]) >= 1
    bad = subprocess.run([str(BIN / "gunicorn"), "--check-config", "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT,
                         env={**os.environ, "METRICS_PORT": "ninety"}, capture_output=True, text=True)
    assert bad.returncode != 0 and "METRICS_PORT must be an integer, got 'ninety'" in bad.stderr


def test_two_gunicorn_workers_are_summed_in_one_scrape_and_log_one_json_line_a_request(
        app: object, database_url: str, tmp_path: Path) -> None:
    port, metrics_port, metrics_dir = _free_port(), _free_port(), tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {**os.environ, "DATABASE_URL": database_url, "VCC_INSTANCE_PATH": str(tmp_path), "SECRET_KEY": SECRET,
           "REDIS_URL": "", "LOG_LEVEL": "INFO", "WEB_CONCURRENCY": "2", "METRICS_TOKEN": TOKEN,
           "METRICS_PORT": str(metrics_port), "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    proc = subprocess.Popen([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}", "wsgi:app"],
                            cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base, answered = f"http://127.0.0.1:{port}", 0
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                assert _get(f"{base}/healthz")[0] == 200
                answered += 1
                break
            except OSError:
                time.sleep(0.1)
        for _ in range(300):  # until both workers have answered some (the kernel picks the worker)
            assert _get(f"{base}/healthz")[0] == 200
            answered += 1
            per_worker = [_healthz_count_in(path) for path in glob.glob(str(metrics_dir / "counter_*.db"))]
            if len([n for n in per_worker if n]) == 2:
                break
        assert len([n for n in per_worker if n]) == 2, per_worker
        assert _get(f"{base}/metrics")[0] == 401
        status, text = _get(f"{base}/metrics", Authorization=f"Bearer {TOKEN}")
        assert status == 200 and _healthz_count(text) == answered == sum(per_worker)
        status, text = _get(f"http://127.0.0.1:{metrics_port}/metrics")  # the master's port, no token
        assert status == 200 and _healthz_count(text) == answered
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    lines = err.splitlines()
    assert all(line.startswith("{") and "\x1b" not in line and "\\u001b" not in line for line in lines), err
    entries = [json.loads(line) for line in lines]
    assert len([e for e in entries if e["logger"] == "vcc.access" and e.get("path") == "/healthz"]) == answered
    assert any(e["logger"] == "gunicorn.error" and "Booting worker" in e["msg"] for e in entries)


def _healthz_count_in(path: str) -> float:
    return sum(s.value for metric in multiprocess.MultiProcessCollector.merge([path]) for s in metric.samples
               if (s.name, tuple(sorted(s.labels.items()))) == HEALTHZ)


@pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")),
                    reason="the install script is run once, in the SQLite tier (a virtualenv install takes ~1 min)")
def test_the_install_script_makes_an_install_that_migrates_and_loads_the_app(tmp_path: Path) -> None:
    prefix = tmp_path / "vcc"
    subprocess.run(["sh", str(ROOT / "deploy" / "install.sh"), str(prefix)], check=True, capture_output=True,
                   text=True, env={**os.environ, "PYTHON": sys.executable})
    app_dir, venv = prefix / "app", prefix / "venv" / "bin"
    assert (prefix / "instance").is_dir() and (prefix / "metrics").is_dir()
    assert not (app_dir / "tests").exists() and not (app_dir / "bench").exists()
    assert list((app_dir / "service" / "__pycache__").glob("app.*.pyc"))  # compiled at install time
    env = {**os.environ, "VCC_INSTANCE_PATH": str(prefix / "instance"), "SECRET_KEY": SECRET,
           "DATABASE_URL": f"sqlite:///{prefix / 'instance' / 'vcc.sqlite3'}", "REDIS_URL": ""}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    for args in ([str(venv / "vcc"), "db", "upgrade"],
                 [str(venv / "gunicorn"), "--check-config", "-c", "gunicorn.conf.py", "wsgi:app"],
                 [str(venv / "vcc"), "scheduler", "--check"]):
        done = subprocess.run(args, cwd=app_dir, env=env, capture_output=True, text=True)
        assert done.returncode == (1 if "--check" in args else 0), done.stderr
    assert done.stdout.startswith("no scheduler has run on")  # the check ran, against the migrated database
    anywhere = subprocess.run([str(venv / "python"), "-c", "import service.app; print(service.app.__file__)"],
                              cwd="/", env=env, capture_output=True, text=True, check=True)
    assert anywhere.stdout.strip() == str(app_dir / "service" / "app.py")  # the installed code, not this tree


def test_compose_runs_the_migration_once_before_web_and_scheduler_and_checks_both() -> None:
    import yaml

    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "scheduler"}
    assert services["migrate"]["command"] == ["vcc", "db", "upgrade"] and services["migrate"]["restart"] == "no"
    for name in ("web", "scheduler"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert services[name]["environment"]["VCC_ENV"] == "production"
    assert "/readyz" in services["web"]["healthcheck"]["test"][-1]
    assert services["scheduler"]["healthcheck"]["test"] == ["CMD", "vcc", "scheduler", "--check"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.findall(r"^RUN (.*)$", dockerfile, re.M) == ["sh /src/deploy/install.sh /opt/vcc vcc && rm -rf /src"]
    assert re.search(r"^USER vcc$", dockerfile, re.M) and 'CMD ["gunicorn", "-c", "gunicorn.conf.py"' in dockerfile
