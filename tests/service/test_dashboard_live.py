"""The dashboard's own JavaScript, run in Node with a minimal fake DOM, against the real app over HTTP.

It signs in through /api/v1/auth/token (a wrong password shows the API's message), lists the demo
organiser's organisation, opens its challenges, a challenge's team standings and report, and signs out.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from service.cli import seed_demo
from service.demo import DEMO_ORGANISER_EMAIL, DEMO_PASSWORD

NODE = shutil.which("node")
DRIVER = Path(__file__).parent / "js" / "dashboard_driver.js"
APP_JS = Path(__file__).resolve().parents[2] / "service" / "static" / "dashboard" / "app.js"


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.skipif(NODE is None, reason="needs Node.js to run the dashboard script")
def test_dashboard_signs_in_and_shows_organisations_challenges_standings_and_report(app: Flask,
                                                                                   live_url: str) -> None:
    assert app.test_cli_runner().invoke(seed_demo, []).exit_code == 0
    run = subprocess.run([str(NODE), str(DRIVER), str(APP_JS), live_url, DEMO_ORGANISER_EMAIL, DEMO_PASSWORD],
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["loginVisibleAtStart"] is True
    assert "email or password is wrong" in summary["wrongPasswordMessage"]
    assert DEMO_ORGANISER_EMAIL in summary["who"]
    assert any("Demo City" in org for org in summary["orgs"])
    assert summary["challenges"], "the organisation's challenges are listed (or an empty-state line)"
    if "challengeTitle" in summary:
        for panel in ("standings", "report"):
            assert "Could not load" not in summary[panel], summary[panel]
        assert summary["reportTables"] >= 1
    assert summary["loginVisibleAfterLogout"] is True and summary["tokensAfterLogout"] == 0
