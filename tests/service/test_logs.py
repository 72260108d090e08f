"""What `vcc serve` (the development server of `make run`) writes: JSON lines only, one request line per request,
no terminal colour codes inside them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_vcc_serve_logs_each_request_once_as_json_without_colour_codes(database_url: str, tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "VCC_INSTANCE_PATH": str(tmp_path), "LOG_LEVEL": "INFO",
           "REDIS_URL": "", "SECRET_KEY": "test-secret-key-that-is-long-enough-for-hs256-0123456789"}
    proc = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--no-scheduler", "--port", str(port)],
                            env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status = _get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                time.sleep(0.1)
        assert status == 200
        assert _get(f"http://127.0.0.1:{port}/no-such-page") == 404  # werkzeug colours a 404 yellow
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    lines = err.splitlines()
    assert lines and all(line.startswith("{") for line in lines), err
    entries = [json.loads(line) for line in lines]
    assert not [line for line in lines if "\x1b" in line or "\\u001b" in line]
    assert not [e for e in entries if "\x1b" in e["msg"] or "\x1b" in e.get("exc", "")]
    for path, status in (("/healthz", 200), ("/no-such-page", 404)):
        about = [e for e in entries if path in e["msg"]]
        assert len(about) == 1, about
        assert about[0]["logger"] == "vcc.access" and about[0]["status"] == status
