"""Erasure that erases: a person seeded across every table that can hold them, erased through DELETE /me or
`vcc users erase`, leaves nothing that joins back to them while every total others see stays exact.

Zelda is in team North of an @work team challenge with three teammates (team South has two people; the teams
stand under two departments). She logs a manual walk with an Idempotency-Key, syncs a watch session and a
step record, imports a GPX ride, syncs a Health Connect session with its distance samples in the same batch,
deletes one activity, checks in at a spot, earns a badge, registers a device, sets preferences, gets nudges
pushed, fails one sign-in and is invited by address. Then she is erased, and the test checks every table
generically (``Base.metadata.sorted_tables``), so a table added later is covered without anyone listing it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import JSON, String, Text, func, select
from sqlalchemy.orm import Session

from challenges.models import ChallengeFormat, Setting
from challenges.standings import reports
from notifications.dispatch import dispatch_due
from notifications.models import DeliveryAttempt, NudgeKind
from notifications.sender import LogSender
from scoring import badges, leaderboards
from scoring.boards import redis_write
from scoring.models import BadgeAward, EntryKind, LeaderboardTotal, PointsEntry
from scoring.types import Period, Scope
from service.cli import erase_user
from service.clock import utcnow
from service.db import Base
from service.login_throttle import account_key
from service.models import AuditEvent, Invitation, LoginThrottle, Role, User
from tests.challenges.activity_files import gpx, track
from tests.challenges.factories import enrol, make_challenge, make_team, walk
from tests.factories import PASSWORD, auth_headers, make_org, make_user
from tests.notifications.factories import make_device, plan_nudge

KEPT = {"users", "enrolments"}
"""The tables that may still name the erased person's id: the tombstone itself, and the enrolments that keep
team and organisation sizes (and the report's participant counts) as they were."""
REPORT_SECTIONS = ("totals", "by_team", "by_organisation", "by_day", "by_type")


def iso(at: datetime) -> str:
    return at.isoformat()


class World:
    def __init__(self, app: Flask, client: FlaskClient, session: Session) -> None:
        self.app, self.client, self.session = app, client, session
        self.olga = make_user(session, display_name="Olga Organiser")
        self.city = make_org(session, kind="employer", name="Acme", members={self.olga: Role.ADMIN})
        depts = [make_org(session, kind="employer", name=n) for n in ("Dept Sales", "Dept Ops")]
        self.challenge = make_challenge(session, self.city, creator=self.olga, format=ChallengeFormat.TEAM,
                                        setting=Setting.WORK, daily_cap=60)
        self.north = make_team(session, self.challenge, self.olga, "North", organisation_id=depts[0].id)
        self.south = make_team(session, self.challenge, self.olga, "South", organisation_id=depts[1].id)
        badges.ensure_definitions(session)
        self.others = [make_user(session, display_name=f"Mate {n}") for n in range(5)]
        for n, person in enumerate(self.others):
            enrol(session, self.challenge, person, team_code=(self.north if n < 3 else self.south).code)
            walk(session, person, 20 + 5 * n, key=f"mate-{n}", days_ago=n % 2)
        session.commit()
        self.location = self.call(self.olga, "POST", f"/api/v1/challenges/{self.challenge.id}/locations", 201,
                                  json={"name": "Town hall", "lat": 60.17, "lon": 24.94}).json["id"]

    def call(self, user: User, method: str, url: str, status: int = 200, **kwargs: Any) -> Any:
        headers = {**auth_headers(self.app, user), **kwargs.pop("headers", {})}
        resp = self.client.open(url, method=method, headers=headers, **kwargs)
        assert resp.status_code == status, (url, resp.status_code, resp.json)
        return resp


class Person:
    """Someone seeded across every table that can hold a person, and every string that could name them."""

    def __init__(self, w: World, name: str) -> None:
        s, cid = w.session, w.challenge.id
        self.email = f"{name}.q@example.org"
        body = {"email": self.email, "password": PASSWORD, "display_name": f"{name.title()} Quixotic-Erasure",
                "timezone": "Europe/Helsinki", "health_data_consent_version": "2026-05"}
        registered = w.client.post("/api/v1/auth/register", json=body)
        assert registered.status_code == 201, registered.json
        self.user = s.get(User, registered.json["id"])
        self.id = self.user.id
        self.user.alias, self.user.firebase_uid, self.user.weight_kg = f"{name}-rides", f"fb-uid-{name}-77", 61.0
        s.commit()
        self.needles = {self.email, body["display_name"], self.user.alias, self.user.firebase_uid}
        token = w.client.post("/api/v1/auth/token", json={"grant_type": "password", "email": self.email,
                                                         "password": PASSWORD})
        assert token.status_code == 200 and token.json["refresh_token"]
        self.headers = {"Authorization": f"Bearer {token.json['access_token']}"}
        w.call(self.user, "POST", f"/api/v1/challenges/{cid}/enrolment", 201, json={"team_code": w.north.code})

        start = utcnow() - timedelta(hours=5)
        walk_in = {"type": "walking", "started_at": iso(start), "duration_s": 25 * 60}
        manual = w.call(self.user, "POST", "/api/v1/activities", 201, json=walk_in,
                        headers={"Idempotency-Key": f"{name}-walk-key"}).json
        watch, steps = f"{name}-watch-run-1", f"{name}-steps-1"
        synced = w.call(self.user, "POST", "/api/v1/activities/batch", json={"items": [
            {"source": "wearable", "external_id": watch, "type": "running",
             "started_at": iso(start + timedelta(hours=1)), "duration_s": 30 * 60, "distance_m": 5000},
            {"source": "wearable", "external_id": steps, "type": "walking", "kind": "steps",
             "started_at": iso(start + timedelta(hours=2)), "duration_s": 3600, "steps": 3000}]}).json
        assert [r["status"] for r in synced["results"]] == ["created", "created"], synced
        ride = gpx(track(start + timedelta(hours=3), minutes=20, speed_ms=5.0), sport="cycling")
        filename = f"{name}-commute.gpx"
        w.call(self.user, "POST", "/api/v1/activities/import", 201, data={"file": (io.BytesIO(ride), filename)},
               content_type="multipart/form-data")
        session_id, sample_ids = f"{name}-hc-session", [f"{name}-hc-d1", f"{name}-hc-d2"]
        hc_start = start - timedelta(hours=2)
        origin = {"dataOrigin": "com.watch"}
        hc = w.call(self.user, "POST", "/api/v1/activities/batch", json={"format": "health_connect", "items": [
            {"recordType": "ExerciseSession", "exerciseType": 56, "startTime": iso(hc_start),
             "endTime": iso(hc_start + timedelta(minutes=30)), "metadata": {"id": session_id, **origin}},
            {"recordType": "Distance", "startTime": iso(hc_start), "endTime": iso(hc_start + timedelta(minutes=10)),
             "distance": {"inMeters": 1500.0}, "metadata": {"id": sample_ids[0], **origin}},
            {"recordType": "Distance", "startTime": iso(hc_start + timedelta(minutes=10)),
             "endTime": iso(hc_start + timedelta(minutes=30)), "distance": {"inMeters": 2500.0},
             "metadata": {"id": sample_ids[1], **origin}}]}).json
        assert [r["status"] for r in hc["results"]] == ["created", "merged", "merged"], hc
        w.call(self.user, "DELETE", f"/api/v1/activities/{manual['id']}", 204)  # a reversal and cap re-applied
        w.call(self.user, "POST", f"/api/v1/challenges/{cid}/checkins", 201,
               json={"location_id": w.location, "lat": 60.17, "lon": 24.94})
        self.needles |= {watch, steps, filename, session_id, *sample_ids}

        make_device(s, self.user, token=f"fcm-token-of-{name}")
        w.call(self.user, "PATCH", "/api/v1/me/notification-preferences",
               json={"daily_cap": 3, "kinds": [{"kind": "streak_at_risk", "enabled": False}]})
        plan_nudge(s, self.user, NudgeKind.BADGE_EARNED, challenge_id=cid)
        s.commit()
        dispatch_due(s, LogSender(), "erasure-test", quiet_hours=False)
        assert w.client.post("/api/v1/auth/token", json={"grant_type": "password", "email": self.email,
                                                         "password": "not the password"}).status_code == 401
        w.call(w.olga, "POST", f"/api/v1/organisations/{w.city.id}/invitations", 201, json={"email": self.email})
        s.expire_all()
        self.needles |= {a.source_sha256 for a in self.activities(s) if a.source_sha256}
        self.needles |= {a.source_ref for a in self.activities(s) if a.source_ref}

    def activities(self, session: Session) -> list[Any]:
        from challenges.activities.models import Activity

        return list(session.scalars(select(Activity).where(Activity.user_id == self.id)))


def user_columns() -> Iterator[tuple[Any, Any]]:
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == "users" and fk.column.name == "id" for fk in column.foreign_keys):
                yield table, column


def rows_naming(session: Session, user_id: int) -> dict[str, int]:
    """Rows of every table whose user-referencing columns hold ``user_id`` (plus the user boards' lines)."""
    found: dict[str, int] = {}
    for table, column in user_columns():
        n = len(session.execute(select(column).where(column == user_id)).all())
        if n:
            found[f"{table.name}.{column.name}"] = n
    lines = session.scalars(select(LeaderboardTotal.period_key).where(
        LeaderboardTotal.scope == Scope.USER, LeaderboardTotal.subject_id == user_id)).all()
    if lines:
        found["leaderboard_totals.user"] = len(lines)
    return found


def texts_naming(session: Session, needles: set[str]) -> list[tuple[str, str]]:
    """Every (table.column, needle) where a text or JSON column anywhere holds one of the needles."""
    hits = []
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
        if not columns:
            continue
        for row in session.execute(select(*columns)):
            for column, value in zip(columns, row, strict=True):
                text = str(value) if value is not None else ""
                hits += [(f"{table.name}.{column.name}", n) for n in needles if n and n.lower() in text.lower()]
    return hits


def snapshot(w: World) -> dict[str, Any]:
    """What others see of the challenge: SQL board lines of teams, organisations and the contest; the team and
    organisation boards as read (Redis when configured) and the Redis sorted sets themselves; the report."""
    s, cid, tz = w.session, w.challenge.id, w.challenge.timezone
    s.expire_all()
    lt = LeaderboardTotal
    lines = {(scope.value, pkey, sid): pts for scope, pkey, sid, pts in s.execute(
        select(lt.scope, lt.period_key, lt.subject_id, lt.points).where(lt.contest_id == cid, lt.scope != Scope.USER))}
    boards = {(scope.value, period.value): [(r.subject_id, r.points, r.rank) for r in leaderboards.board(
        s, cid, scope, period, tz=tz, limit=500, labels=False).rows]
        for scope in (Scope.TEAM, Scope.ORGANISATION) for period in Period}
    report = reports.report(s, w.challenge, 2)
    return {"lines": lines, "boards": boards, "redis": redis_boards(cid, user_boards=False),
            "report": {name: report[name] for name in REPORT_SECTIONS}}


def redis_boards(cid: int, *, user_boards: bool) -> dict[str, list[tuple[str, float]]]:
    r = redis_write.client()
    if r is None:
        return {}
    pfx = redis_write.prefix()
    keys = [k.decode() if isinstance(k, bytes) else k for k in r.scan_iter(match=redis_write.contest_pattern(pfx, cid))]
    wanted = [k for k in keys if (f":{Scope.USER.value}:" in k) == user_boards]
    return {k: [(m.decode() if isinstance(m, bytes) else m, p) for m, p in r.zrange(k, 0, -1, withscores=True)]
            for k in sorted(wanted)}


def every_row(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    session.expire_all()
    return {t.name: sorted(tuple(map(repr, row)) for row in session.execute(select(t)))
            for t in Base.metadata.sorted_tables}


def assert_erased(w: World, person: Person, before: dict[str, Any]) -> None:
    s = w.session
    s.expire_all()
    assert rows_naming(s, person.id).keys() <= {f"{t}.{c}" for t in KEPT for c in ("id", "user_id")}
    assert texts_naming(s, person.needles) == []
    tombstone = s.get(User, person.id)
    assert (tombstone.email, tombstone.display_name, tombstone.alias, tombstone.deleted_at is not None) == (
        f"deleted-{person.id}@deleted.invalid", "Deleted user", None, True)
    assert snapshot(w) == before
    detached = s.scalars(select(PointsEntry).where(PointsEntry.user_id.is_(None))).all()
    assert detached and all(e.source_key == "erased" and e.entry_key == f"erased:{e.id}" and e.rule == ""
                            for e in detached)
    cid = w.challenge.id
    user_board = leaderboards.board(s, cid, Scope.USER, Period.ALL, limit=500, labels=False).rows
    assert person.id not in {r.subject_id for r in user_board} and len(user_board) == len(w.others)
    member = redis_write.member(person.id) if redis_write.client() is not None else None
    assert all(member not in dict(rows) for rows in redis_boards(cid, user_boards=True).values())


def seeded_elsewhere(w: World, person: Person) -> dict[str, bool]:
    """The rows that hold the person without a column referencing users: pushes to their devices, the sign-in
    throttle of their address (keyed by its hash), an invitation reserved for their address."""
    session = w.session
    session.expire_all()
    key = account_key(person.email, w.app.config["SECRET_KEY"])
    return {"delivery_attempts": session.scalar(select(func.count()).select_from(DeliveryAttempt)) > 0,
            "login_throttles": session.get(LoginThrottle, key) is not None,
            "invitations": session.scalar(select(Invitation.id).where(Invitation.email == person.email)) is not None}


@pytest.fixture
def world(app: Flask, client: FlaskClient, session: Session) -> World:
    return World(app, client, session)


def test_delete_me_erases_the_person_and_keeps_every_total_others_see(world: World) -> None:
    w, s = world, world.session
    zelda = Person(w, "zelda")
    assert rows_naming(s, zelda.id).keys() >= {
        "activities.user_id", "distance_samples.user_id", "checkins.user_id", "device_tokens.user_id",
        "nudges.user_id", "notification_settings.user_id", "notification_preferences.user_id",
        "idempotency_records.user_id", "refresh_tokens.user_id", "consent_records.user_id",
        "badge_awards.user_id", "audit_notes.user_id", "points_entries.user_id", "enrolments.user_id",
        "email_outbox.user_id", "email_tokens.user_id"}
    assert seeded_elsewhere(w, zelda) == {"delivery_attempts": True, "login_throttles": True, "invitations": True}
    kinds = set(s.scalars(select(PointsEntry.kind).where(PointsEntry.user_id == zelda.id)))
    assert kinds == {EntryKind.ACTIVITY, EntryKind.REVERSAL, EntryKind.CAP_ADJUST}
    award = s.scalars(select(BadgeAward.id).where(BadgeAward.user_id == zelda.id)).one()
    credential = f"/api/v1/badge-awards/{award}/credential"
    assert w.client.get(credential, headers=zelda.headers).status_code == 200
    before = snapshot(w)
    assert before["report"]["by_team"][0]["participants"] == 4
    if redis_write.client() is not None:  # the Redis tier: the boards are there, Zelda on her user boards
        assert before["redis"]
        for period in Period:  # Redis builds a board on its first read
            leaderboards.board(s, w.challenge.id, Scope.USER, period, tz=w.challenge.timezone, labels=False)
        assert any(redis_write.member(zelda.id) in dict(rows)
                   for rows in redis_boards(w.challenge.id, user_boards=True).values())

    assert w.client.delete("/api/v1/me", headers=zelda.headers).status_code == 204
    assert_erased(w, zelda, before)
    assert seeded_elsewhere(w, zelda) == {"delivery_attempts": False, "login_throttles": False, "invitations": False}
    assert w.client.get(credential, headers=zelda.headers).status_code == 401
    gone = w.call(w.olga, "GET", credential, 404).json  # the award is deleted: its credential URL answers gone
    assert gone["type"].endswith("/badge-award-not-found")

    rescored = w.app.test_cli_runner().invoke(args=["rescore", str(w.challenge.id)])
    assert rescored.exit_code == 0, rescored.output
    assert snapshot(w) == before

    stored = every_row(s)
    assert w.client.delete("/api/v1/me", headers=zelda.headers).status_code == 401
    again = w.app.test_cli_runner().invoke(erase_user, [f"deleted-{zelda.id}@deleted.invalid", "--yes"])
    assert again.exit_code == 0 and "already erased" in again.output, again.output
    assert every_row(s) == stored


def test_vcc_users_erase_does_what_delete_me_does_and_records_it(world: World) -> None:
    w, s = world, world.session
    yann = Person(w, "yann")
    before = snapshot(w)
    runner = w.app.test_cli_runner()
    refused = runner.invoke(erase_user, [yann.email], input="n\n")
    assert refused.exit_code == 1 and s.get(User, yann.id).deleted_at is None

    result = runner.invoke(erase_user, [f"  {yann.email.upper()} ", "--yes"])
    assert result.exit_code == 0, result.output
    assert f"erased account {yann.id}" in result.output and "activities: 5" in result.output
    assert yann.email not in result.output and "Quixotic" not in result.output
    assert_erased(w, yann, before)
    event = s.scalars(select(AuditEvent).where(AuditEvent.action == "user.erased")).one()
    assert (event.actor_id, event.organisation_id, event.target_type, event.target_id) == (None, None, "user", yann.id)
    assert event.detail["activities"] == 5 and event.detail["ledger_lines_detached"] > 0

    stored = every_row(s)
    again = runner.invoke(erase_user, [f"deleted-{yann.id}@deleted.invalid"])
    assert again.exit_code == 0 and "already erased; nothing changed" in again.output
    assert every_row(s) == stored


def test_vcc_users_erase_refuses_an_unknown_address(app: Flask, session: Session) -> None:
    make_user(session, email="someone@example.org")
    session.commit()
    result = app.test_cli_runner().invoke(erase_user, ["nobody@example.org", "--yes"])
    assert result.exit_code == 1
    assert "no account has the email address 'nobody@example.org'" in result.output
    assert session.scalars(select(User.deleted_at)).all() == [None]
