"""`vcc challenges` commands print what organisers need without the API."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask

from challenges.models import Challenge
from challenges.places import qr
from challenges.places.locations import create_location
from tests.challenges.conftest import Cast
from tests.challenges.factories import make_challenge


def test_list_qr_and_report_commands(app: Flask, session: Any, cast: Cast) -> None:
    challenge: Challenge = make_challenge(session, cast.org, title="Spot hunt")
    location = create_location(session, challenge, {"name": "Pier gym", "lat": 60.1, "lon": 24.9})
    session.commit()
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["challenges", "list"])
    assert listed.exit_code == 0 and "Spot hunt" in listed.output and "running" in listed.output
    codes = runner.invoke(args=["challenges", "qr", str(challenge.id)])
    token = codes.output.split()[1]
    from service.clock import utcnow

    assert qr.verify(location, token, utcnow(), app.extensions["vcc_settings"].secret_key)
    report = runner.invoke(args=["challenges", "report", str(challenge.id)])
    assert json.loads(report.output)["challenge_id"] == challenge.id
    too_small = runner.invoke(args=["challenges", "report", str(challenge.id), "--min-group-size", "9"])
    assert too_small.exit_code == 2 and "at least 10" in too_small.output and "challenge_id" not in too_small.output
    missing = runner.invoke(args=["challenges", "qr", "999999"])
    assert missing.exit_code == 1 and "No challenge 999999" in missing.output
