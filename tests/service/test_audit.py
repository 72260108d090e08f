"""The audit trail: organisation-level actions are recorded, and only the organisation's admins read it, page by
page, newest first, filtered by action and time, never another organisation's events."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service import audit
from service.models import AuditEvent, Organisation, Role, User
from tests.factories import auth_headers, make_org, make_user

ROOT = Path(__file__).resolve().parents[2]


def _trail(client: FlaskClient, app: Flask, org_id: int, who: User, query: str = "") -> Any:
    return client.get(f"/api/v1/organisations/{org_id}/audit{query}", headers=auth_headers(app, who))


def _staff(session: Any) -> tuple[Organisation, User, User, User]:
    admin, organiser, member = make_user(session), make_user(session), make_user(session)
    org = make_org(session, kind="employer", members={admin: Role.ADMIN, organiser: Role.ORGANISER,
                                                      member: Role.MEMBER})
    session.commit()
    return org, admin, organiser, member


def _actions(session: Any) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_only_the_organisations_admins_and_superusers_read_its_trail(app: Flask, client: FlaskClient,
                                                                    session: Any) -> None:
    org, admin, organiser, member = _staff(session)
    outsider, root = make_user(session), make_user(session, is_superuser=True)
    session.commit()
    assert _trail(client, app, org.id, admin).status_code == 200
    assert _trail(client, app, org.id, root).status_code == 200
    for who in (organiser, member):
        refused = _trail(client, app, org.id, who)
        assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    hidden = _trail(client, app, org.id, outsider)
    assert hidden.status_code == 404 and hidden.mimetype == "application/problem+json"
    assert _trail(client, app, 999_999, admin).status_code == 404
    assert client.get(f"/api/v1/organisations/{org.id}/audit").status_code == 401


def test_organisation_membership_and_invitation_changes_are_recorded_without_the_invitees_address(
        app: Flask, client: FlaskClient, session: Any) -> None:
    org, admin, organiser, member = _staff(session)
    h = auth_headers(app, admin)
    base = f"/api/v1/organisations/{org.id}"
    assert client.patch(base, json={"name": "Acme Oy", "region": None}, headers=h).status_code == 200
    assert client.patch(f"{base}/memberships/{member.id}", json={"role": "organiser"}, headers=h).status_code == 200
    assert client.delete(f"{base}/memberships/{organiser.id}", headers=h).status_code == 204
    invited = client.post(f"{base}/invitations", json={"role": "member", "email": "Pat.Doe@Acme.example",
                                                       "max_uses": 1}, headers=h)
    assert invited.status_code == 201
    assert client.delete(f"{base}/invitations/{invited.json['id']}", headers=h).status_code == 200
    assert client.delete(f"{base}/invitations/{invited.json['id']}", headers=h).status_code == 200
    items = _trail(client, app, org.id, admin).json["items"]
    assert [(i["action"], i["target"]["type"], i["detail"]) for i in items] == [
        ("invitation.revoked", "invitation", {"role": "member"}),
        ("invitation.created", "invitation", {"role": "member", "max_uses": 1, "email_domain": "acme.example"}),
        ("membership.removed", "membership", {"user_id": organiser.id, "role": "organiser"}),
        ("membership.role_changed", "membership", {"user_id": member.id, "old_role": "member",
                                                   "new_role": "organiser"}),
        ("organisation.updated", "organisation", {"fields": ["name"]}),
    ]
    assert {i["actor"]["id"] for i in items} == {admin.id} and items[-1]["target"]["id"] == org.id
    assert "pat.doe" not in str(items).lower()


def test_a_refused_change_and_leaving_oneself_record_nothing(app: Flask, client: FlaskClient, session: Any) -> None:
    org, admin, _, member = _staff(session)
    base = f"/api/v1/organisations/{org.id}/memberships"
    last = client.patch(f"{base}/{admin.id}", json={"role": "member"}, headers=auth_headers(app, admin))
    assert last.status_code == 409 and last.json["type"].endswith("last-admin")
    assert client.delete(f"{base}/{admin.id}", headers=auth_headers(app, admin)).status_code == 409
    assert client.delete(f"{base}/{member.id}", headers=auth_headers(app, member)).status_code == 204
    assert _actions(session) == []


def test_an_item_names_its_actor_as_the_account_reads_now_and_never_an_erased_persons_name(
        app: Flask, client: FlaskClient, session: Any) -> None:
    org, admin, _, _ = _staff(session)
    gone = make_user(session, display_name="Gone Admin")
    with time_machine.travel(datetime(2026, 5, 2, 8, 0, tzinfo=UTC), tick=False):
        audit.record(session, actor=gone, organisation_id=org.id, action="challenge.published",
                     target_type="challenge", target_id=7)
        audit.record(session, actor=None, organisation_id=org.id, action="user.erased", target_type="user")
    session.commit()
    assert client.delete("/api/v1/me", headers=auth_headers(app, gone)).status_code == 204
    erased, published = _trail(client, app, org.id, admin).json["items"]
    assert {**published, "actor": None} == {"id": published["id"], "at": "2026-05-02T08:00:00+00:00", "actor": None,
                                            "action": "challenge.published", "target": {"type": "challenge", "id": 7},
                                            "detail": None}
    assert published["actor"] in (None, {"id": gone.id, "display_name": "Deleted user"}), "never the old name"
    assert erased["actor"] is None and erased["target"] == {"type": "user", "id": None}
    audit.record(session, actor=admin, organisation_id=org.id, action="challenge.ended", target_type="challenge")
    session.commit()
    assert _trail(client, app, org.id, admin).json["items"][0]["actor"] == {"id": admin.id,
                                                                            "display_name": admin.display_name}


def test_pages_are_complete_and_stable_while_events_are_added(app: Flask, client: FlaskClient, session: Any) -> None:
    org, admin, _, _ = _staff(session)
    ids = [audit.record(session, actor=admin, organisation_id=org.id, action="challenge.updated",
                        target_type="challenge", target_id=n, detail={"fields": ["title"]}).id for n in range(7)]
    session.commit()
    first = _trail(client, app, org.id, admin, "?limit=3").json
    audit.record(session, actor=admin, organisation_id=org.id, action="challenge.ended", target_type="challenge")
    session.commit()
    seen = [i["id"] for i in first["items"]]
    cursor = first["next"]
    while cursor:
        page = _trail(client, app, org.id, admin, f"?limit=3&cursor={cursor}").json
        seen += [i["id"] for i in page["items"]]
        cursor = page["next"]
    assert seen == ids[::-1]
    assert _trail(client, app, org.id, admin, "?cursor=%%%").status_code == 400


def test_filters_by_action_and_time(app: Flask, client: FlaskClient, session: Any) -> None:
    org, admin, _, _ = _staff(session)
    for day, action in ((1, "challenge.created"), (3, "challenge.published"), (5, "challenge.ended")):
        with time_machine.travel(datetime(2026, 5, day, 12, tzinfo=UTC), tick=False):
            audit.record(session, actor=admin, organisation_id=org.id, action=action, target_type="challenge")
    session.commit()

    def actions(query: str) -> list[str]:
        resp = _trail(client, app, org.id, admin, query)
        assert resp.status_code == 200, resp.json
        return [i["action"] for i in resp.json["items"]]

    assert actions("?action=challenge.published") == ["challenge.published"]
    assert actions("?since=2026-05-03T14:00:00%2B02:00") == ["challenge.ended", "challenge.published"]
    assert actions("?since=2026-05-03T12:00:01Z&action=challenge.published") == []


@pytest.mark.parametrize("query", ["?action=challenge.exploded", "?since=yesterday", "?since=2026-05-03T12:00:00",
                                   "?limit=0", "?colour=blue"])
def test_nonsense_filters_are_422s(app: Flask, client: FlaskClient, session: Any, query: str) -> None:
    org, admin, _, _ = _staff(session)
    resp = _trail(client, app, org.id, admin, query)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"


def test_the_trail_of_one_organisation_never_shows_anothers(app: Flask, client: FlaskClient, session: Any) -> None:
    org, admin, _, _ = _staff(session)
    other_admin = make_user(session)
    other = make_org(session, members={other_admin: Role.ADMIN})
    audit.record(session, actor=admin, organisation_id=org.id, action="challenge.created", target_type="challenge")
    audit.record(session, actor=other_admin, organisation_id=other.id, action="challenge.ended",
                 target_type="challenge")
    audit.record(session, actor=None, organisation_id=None, action="user.erased", target_type="user")
    session.commit()
    assert [i["action"] for i in _trail(client, app, org.id, admin).json["items"]] == ["challenge.created"]
    assert [i["action"] for i in _trail(client, app, other.id, other_admin).json["items"]] == ["challenge.ended"]
    assert _trail(client, app, other.id, admin).status_code == 404


def test_record_refuses_an_action_missing_from_the_documented_list(session: Any) -> None:
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record(session, actor=None, organisation_id=None, action="challenge.exploded", target_type="challenge")


def _action_literals(path: Path) -> set[str]:
    families = {name.split(".")[0] for name in audit.ACTIONS}
    return {node.value for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "." in node.value
            and node.value.split(".")[0] in families and " " not in node.value and "/" not in node.value}


def test_every_action_a_module_records_is_in_the_documented_list() -> None:
    recording = [p for package in ("service", "challenges", "scoring", "notifications")
                 for p in (ROOT / package).rglob("*.py") if "audit" in p.read_text() and p.name != "audit.py"]
    assert len(recording) >= 5
    found = set().union(*(_action_literals(p) for p in recording))
    assert found - set(audit.ACTIONS) == set()
    docs = (ROOT / "docs" / "api.md").read_text()
    assert [a for a in audit.ACTIONS if f"`{a}`" not in docs] == [], "docs/api.md lists every audit action"
