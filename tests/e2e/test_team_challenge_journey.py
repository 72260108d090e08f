"""A team challenge walked through the API as its people would, with every total checked exactly.

An organiser creates and publishes a team challenge; Ann and Ben (team North) and Cat (team South) join.
They log, sync and import activity: a manual walk retried with the same Idempotency-Key, the same walk again
from Ann's watch (richer: it replaces the manual one), a run, a GPX ride and the same ride from Health Connect
(poorer: not counted), and an implausible run (flagged). Then an edit, a delete (the ride from Health Connect
counts again) and the organiser's approval of the flagged run. Leaderboards, progress and badges are checked
after each step, and rebuilding the boards from the ledger gives the same standings.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from flask.testing import FlaskClient

from scoring import badges, ledger
from tests.challenges.activity_files import gpx, track

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
DAY2 = datetime(2026, 6, 2, 0, 0, tzinfo=UTC)


def iso(at: datetime) -> str:
    return at.isoformat()


class Person:
    def __init__(self, client: FlaskClient, name: str, consent: str | None = None) -> None:
        """``consent``: the privacy notice version the app showed and the person agreed to at sign-up."""
        self.client = client
        email = f"{name.lower()}@example.org"
        body = {"email": email, "password": "correct horse battery", "display_name": name,
                "timezone": "Europe/Helsinki"}
        if consent:
            body["health_data_consent_version"] = consent
        resp = client.post("/api/v1/auth/register", json=body)
        assert resp.status_code == 201, resp.json
        self.id = resp.json["id"]
        self.email = email
        self.login()

    def login(self) -> None:
        """Access tokens live 15 minutes; after travelling in time the app signs in again."""
        token = self.client.post("/api/v1/auth/token", json={"grant_type": "password", "email": self.email,
                                                             "password": "correct horse battery"})
        self.headers = {"Authorization": f"Bearer {token.json['access_token']}"}

    def call(self, method: str, url: str, status: int = 200, **kwargs: Any) -> Any:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        resp = self.client.open(url, method=method, headers=headers, **kwargs)
        assert resp.status_code == status, (url, resp.status_code, resp.json)
        return resp


def board(person: Person, cid: int, scope: str = "user") -> list[tuple[str, int]]:
    rows = person.call("GET", f"/api/v1/challenges/{cid}/leaderboards?scope={scope}").json["rows"]
    return [(r["name"], r["points"]) for r in rows]


def badge_codes(person: Person) -> list[str]:
    body = person.call("GET", "/api/v1/me/badges").json
    items = body["items"] if isinstance(body, dict) else body
    return sorted(a["badge"]["code"] for a in items)


def test_team_challenge_journey(app, client, session):
    with time_machine.travel(T0, tick=False) as traveller:
        olga = Person(client, "Olga")
        org = olga.call("POST", "/api/v1/organisations", 201,
                        json={"kind": "municipality", "name": "Tampere", "timezone": "Europe/Helsinki"}).json
        cid = olga.call("POST", "/api/v1/challenges", 201, json={
            "organisation_id": org["id"], "title": "Move together in June", "setting": "public_space",
            "metric": "active_minutes", "format": "team", "goal": 300, "grace_days": 3,
            "starts_at": "2026-06-01T00:00:00", "ends_at": "2026-06-29T00:00:00"}).json["id"]
        olga.call("POST", f"/api/v1/challenges/{cid}/publish")
        north = olga.call("POST", f"/api/v1/challenges/{cid}/teams", 201, json={"name": "North"}).json
        south = olga.call("POST", f"/api/v1/challenges/{cid}/teams", 201, json={"name": "South"}).json
        badges.ensure_definitions(session)
        session.commit()

        ann, ben = (Person(client, n, consent="2026-05") for n in ("Ann", "Ben"))
        cat = Person(client, "Cat")  # skipped the consent screen at sign-up
        for person, team in ((ann, north), (ben, north), (cat, south)):
            person.call("POST", f"/api/v1/challenges/{cid}/enrolment", 201, json={"team_code": team["code"]})

        traveller.move_to(DAY2 + timedelta(hours=12))
        for person in (olga, ann, ben, cat):
            person.login()
        # Ann: a manual walk, retried with the same key; then her watch syncs the same walk and a run
        walk = {"type": "walking", "started_at": iso(DAY2 + timedelta(hours=6)), "duration_s": 30 * 60}
        key = {"Idempotency-Key": "ann-walk-1"}
        first = ann.call("POST", "/api/v1/activities", 201, json=walk, headers=key).json
        retry = ann.call("POST", "/api/v1/activities", 201, json=walk, headers=key)
        assert retry.json == first and retry.headers["Idempotent-Replayed"] == "true"
        assert first["entries"] == [{"challenge_id": cid, "status": "counted", "reason": None, "points": 30}]
        sync = ann.call("POST", "/api/v1/activities/batch", json={"items": [
            {"source": "wearable", "external_id": "watch-walk", "type": "walking",
             "started_at": iso(DAY2 + timedelta(hours=6, minutes=1)), "duration_s": 32 * 60},
            {"source": "wearable", "external_id": "watch-run", "type": "running",
             "started_at": iso(DAY2 + timedelta(hours=10)), "duration_s": 40 * 60, "distance_m": 7000},
        ]}).json
        assert [r["status"] for r in sync["results"]] == ["created", "created"]
        run_id = sync["results"][1]["activity_id"]
        manual = ann.call("GET", f"/api/v1/activities/{first['id']}").json
        assert manual["status"] == "superseded" and manual["entries"][0]["points"] == 0

        # Ben: a GPX ride, then the same ride from Health Connect (a second, poorer source)
        ride = gpx(track(DAY2 + timedelta(hours=7), minutes=45, speed_ms=5.0), sport="cycling")
        imported = ben.call("POST", "/api/v1/activities/import", 201, data={"file": (io.BytesIO(ride), "ride.gpx")},
                            content_type="multipart/form-data").json
        assert imported["type"] == "cycling" and imported["entries"][0]["points"] == 45
        hc = ben.call("POST", "/api/v1/activities/batch", json={"format": "health_connect", "items": [
            {"recordType": "ExerciseSession", "exerciseType": 8, "startTime": iso(DAY2 + timedelta(hours=7)),
             "endTime": iso(DAY2 + timedelta(hours=7, minutes=45)), "metadata": {"id": "hc-ride-1"}}]}).json
        assert hc["results"][0]["status"] == "duplicate" and hc["results"][0]["points"] == {}

        # Cat: no activity before she consents to processing her health data; then a walk, and a run no one can
        # run (flagged, no points until reviewed)
        cat_walk = {"type": "walking", "started_at": iso(DAY2 + timedelta(hours=8)), "duration_s": 50 * 60}
        refused = cat.call("POST", "/api/v1/activities", 403, json=cat_walk).json
        assert refused["type"].endswith("/health-data-consent-required")
        assert "/api/v1/me/consents/health_data" in refused["detail"]
        cat.call("PUT", "/api/v1/me/consents/health_data", json={"notice_version": "2026-05"})
        cat.call("POST", "/api/v1/activities", 201, json=cat_walk)
        fast = cat.call("POST", "/api/v1/activities", 201, json={
            "type": "running", "started_at": iso(DAY2 + timedelta(hours=9)), "duration_s": 20 * 60,
            "distance_m": 10_000}).json
        assert fast["result"] == "flagged" and fast["entries"][0]["points"] == 0

        assert board(olga, cid) == [("Ann", 72), ("Cat", 50), ("Ben", 45)]
        assert board(olga, cid, "team") == [("North", 117), ("South", 50)]
        progress = ann.call("GET", f"/api/v1/challenges/{cid}/progress").json
        assert progress["points"]["all"] == 72 and progress["rank"] == 1
        assert progress["goal"] == {"scope": "team", "value": 117, "goal": 300.0, "fraction": 0.39}
        assert progress["collective"]["value"] == 167
        for person in (ann, ben, cat):
            assert badge_codes(person) == ["first-move"]

        # Ann's run was longer than she logged; Ben deletes his GPX ride (the Health Connect one counts again)
        edited = ann.call("PATCH", f"/api/v1/activities/{run_id}", json={"duration_s": 60 * 60}).json
        assert edited["entries"] == [{"challenge_id": cid, "status": "counted", "reason": None, "points": 60}]
        ben.call("DELETE", f"/api/v1/activities/{imported['id']}", 204)
        mine = ben.call("GET", "/api/v1/activities").json["items"]
        assert [(a["source"], a["status"]) for a in mine] == [("health_connect", "accepted")]
        assert mine[0]["entries"][0]["points"] == 45

        # the organiser reviews Cat's run and approves it
        queue = olga.call("GET", f"/api/v1/challenges/{cid}/review-queue").json["items"]
        assert [(q["activity"]["id"], q["display_name"]) for q in queue] == [(fast["id"], "Cat")]
        cat.call("POST", f"/api/v1/activities/{fast['id']}/approve", 403, json={})
        approved = olga.call("POST", f"/api/v1/activities/{fast['id']}/approve", json={}).json
        assert approved["entries"][0]["points"] == 20

        assert board(olga, cid) == [("Ann", 92), ("Cat", 70), ("Ben", 45)]
        assert board(olga, cid, "team") == [("North", 137), ("South", 70)]
        assert cat.call("GET", f"/api/v1/challenges/{cid}/progress").json["goal"]["value"] == 70

        ledger.rescore_contest(session, cid)
        session.commit()
        assert board(olga, cid) == [("Ann", 92), ("Cat", 70), ("Ben", 45)]
        assert board(olga, cid, "team") == [("North", 137), ("South", 70)]
