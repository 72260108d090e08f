"""GPX, TCX and FIT imports: figures computed from the track, the same file twice, and clear 4xx for bad files."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from challenges.activities.files import BadActivityFile, read_activity_file
from tests.challenges.activity_files import fit, gpx, tcx, track
from tests.challenges.activity_helpers import ago, make_world, points

FIXTURES = Path(__file__).parents[1] / "fixtures"
T0 = datetime(2026, 5, 4, 5, 0, tzinfo=UTC)


@pytest.mark.parametrize(("name", "fmt", "sport", "duration", "moving", "distance"), [
    ("run_helsinki.gpx", "gpx", "running", 1920, 1790, 5400.0),
    ("ride_helsinki.tcx", "tcx", "Biking", 1200, 1200, 7200.0),
    ("run_helsinki.fit", "fit", "running", 1800, 1800, 5400.0),
])
def test_each_format_gives_start_duration_moving_time_and_distance(name, fmt, sport, duration, moving, distance):
    summary = read_activity_file(name, (FIXTURES / name).read_bytes())
    assert (summary.format, summary.sport, summary.started_at) == (fmt, sport, T0)
    assert (summary.duration_s, summary.moving_time_s) == (duration, moving)
    assert summary.distance_m == pytest.approx(distance, rel=0.002)


def test_the_same_ride_gives_the_same_figures_in_every_format():
    points_ = track(T0, minutes=20, speed_ms=5.5)
    figures = {(s.duration_s, s.moving_time_s, round(s.distance_m or 0)) for s in (
        read_activity_file("a.gpx", gpx(points_, sport="cycling")), read_activity_file("a.tcx", tcx(points_)),
        read_activity_file("a.fit", fit(points_, sport="cycling")))}
    assert len(figures) == 1


def test_an_indoor_fit_without_positions_uses_the_devices_distance():
    pts = [(at, None, None, dist) for at, _, _, dist in track(T0, minutes=10, speed_ms=2.5)]
    summary = read_activity_file("treadmill.fit", fit(pts))
    assert summary.distance_m == pytest.approx(1500, abs=1) and summary.moving_time_s == 600


def test_a_summary_only_fit_uses_its_session_totals():
    summary = read_activity_file("s.fit", fit(track(T0, minutes=10, speed_ms=2.5), records=False))
    assert (summary.started_at, summary.duration_s, summary.distance_m) == (T0, 600, 1500.0)


def test_content_decides_the_format_not_the_name():
    data = (FIXTURES / "run_helsinki.fit").read_bytes()
    assert read_activity_file("misnamed.gpx", data).format == "fit"


@pytest.mark.parametrize(("name", "data", "words"), [
    ("empty.gpx", b"", "empty"),
    ("truncated.gpx", (FIXTURES / "truncated.gpx").read_bytes(), "not valid"),
    ("route_only.gpx", (FIXTURES / "route_only.gpx").read_bytes(), "planned route"),
    ("no_points.tcx", (FIXTURES / "no_points.tcx").read_bytes(), "fewer than two"),
    ("broken.tcx", b"<?xml version='1.0'?><TrainingCenterDatabase><Activities>", "well-formed"),
    ("cut.fit", (FIXTURES / "run_helsinki.fit").read_bytes()[:-40], "truncated"),
    ("notes.txt", b"just some text", "not GPX, TCX or FIT"),
    ("bomb.gpx", b'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY a "aaaa">]><gpx>&a;</gpx>', "entity"),
])
def test_unreadable_files_say_what_is_wrong(name, data, words):
    with pytest.raises(BadActivityFile) as caught:
        read_activity_file(name, data)
    assert words in caught.value.detail


def _upload(client, headers, data, name, **form):
    return client.post("/api/v1/activities/import", data={"file": (io.BytesIO(data), name), **form},
                       headers=headers, content_type="multipart/form-data")


def test_importing_a_gpx_scores_it_and_keeps_the_source_reference(app, client, session):
    w = make_world(app, session, metric="distance_m")
    pat = w.users[0]
    data = gpx(track(ago(hours=2), minutes=30, speed_ms=3.0))
    resp = _upload(client, w.h(pat), data, "morning.gpx")
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert (body["source"], body["type"], body["source_ref"]) == ("gpx", "running", "morning.gpx")
    assert body["distance_m"] == pytest.approx(5400, rel=0.002) and body["duration_s"] == 1800
    assert len(body["source_sha256"]) == 64
    assert points(session, w.challenge.id, pat.id) == round(body["distance_m"])
    again = _upload(client, w.h(pat), data, "copy.gpx")
    assert again.status_code == 200 and again.json["result"] == "duplicate" and again.json["id"] == body["id"]
    assert points(session, w.challenge.id, pat.id) == round(body["distance_m"])


def test_a_form_type_overrides_the_files_sport(app, client, session):
    w = make_world(app, session)
    resp = _upload(client, w.h(w.users[0]), tcx(track(ago(hours=2), minutes=20, speed_ms=1.3), sport="Other"),
                   "walk.tcx", type="walking")
    assert resp.status_code == 201 and resp.json["type"] == "walking"


def test_a_file_with_an_unknown_sport_and_no_type_is_a_422_asking_for_the_type(app, client, session):
    w = make_world(app, session)
    resp = _upload(client, w.h(w.users[0]), tcx(track(ago(hours=2), minutes=20), sport="Other"), "x.tcx")
    assert resp.status_code == 422 and "form field 'type'" in resp.json["detail"]


def test_a_malformed_upload_is_a_422_problem(app, client, session):
    w = make_world(app, session)
    resp = _upload(client, w.h(w.users[0]), (FIXTURES / "truncated.gpx").read_bytes(), "t.gpx")
    assert resp.status_code == 422
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    assert resp.json["type"].endswith("bad-activity-file") and "GPX" in resp.json["detail"]


def test_a_file_over_the_import_limit_is_a_413(app, client, session, monkeypatch):
    w = make_world(app, session)
    small = dataclasses.replace(app.extensions["vcc_settings"], import_max_bytes=4096)
    monkeypatch.setitem(app.extensions, "vcc_settings", small)
    resp = _upload(client, w.h(w.users[0]), gpx(track(ago(hours=2), minutes=30)), "big.gpx")
    assert resp.status_code == 413 and resp.json["type"].endswith("file-too-large")
    assert "4096 bytes" in resp.json["detail"]


def test_an_import_without_a_file_is_a_422(app, client, session):
    w = make_world(app, session)
    resp = client.post("/api/v1/activities/import", data={"type": "walking"}, headers=w.h(w.users[0]),
                       content_type="multipart/form-data")
    assert resp.status_code == 422 and "file" in resp.json["detail"]
