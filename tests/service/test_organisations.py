"""Organisations, memberships and invitations; every role check is per organisation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.clock import utcnow
from service.models import Invitation, Membership, Organisation, Role, User
from tests.factories import auth_headers, make_org, make_user


def _membership(session: Any, org_id: int, user_id: int) -> Membership | None:
    session.expire_all()
    return session.scalar(select(Membership).where(Membership.organisation_id == org_id,
                                                   Membership.user_id == user_id))


def _invite(client: FlaskClient, app: Flask, org_id: int, by: User, **body: Any) -> Any:
    return client.post(f"/api/v1/organisations/{org_id}/invitations", json=body, headers=auth_headers(app, by))


def test_creator_becomes_admin_and_sees_it_in_my_list(app: Flask, client: FlaskClient, session: Any) -> None:
    user = make_user(session)
    session.commit()
    headers = auth_headers(app, user)
    resp = client.post("/api/v1/organisations", json={"kind": "employer", "name": "Acme Oy", "country": "fi",
                                                      "timezone": "Europe/Helsinki"}, headers=headers)
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["my_role"] == "admin" and body["slug"] == "acme-oy" and body["country"] == "FI"
    assert _membership(session, body["id"], user.id).role == Role.ADMIN
    listed = client.get("/api/v1/organisations", headers=headers).get_json()
    assert [(o["name"], o["my_role"]) for o in listed["items"]] == [("Acme Oy", "admin")]


def test_list_is_mine_only_and_paginates(app: Flask, client: FlaskClient, session: Any) -> None:
    user = make_user(session)
    mine = [make_org(session, name=f"Mine {i}", members={user: Role.MEMBER}) for i in range(3)]
    make_org(session, name="Not mine")
    session.commit()
    headers = auth_headers(app, user)
    page1 = client.get("/api/v1/organisations?limit=2", headers=headers).get_json()
    page2 = client.get(f"/api/v1/organisations?limit=2&cursor={page1['next']}", headers=headers).get_json()
    assert [o["id"] for o in page1["items"] + page2["items"]] == [o.id for o in mine]
    assert page2["next"] is None
    assert client.get("/api/v1/organisations?cursor=%%%", headers=headers).status_code == 400


@pytest.mark.parametrize("body", [{"kind": "planet", "name": "X"}, {"kind": "club"},
                                  {"kind": "club", "name": "X", "timezone": "Nowhere/Town"},
                                  {"kind": "club", "name": "X", "country": "FIN"}])
def test_create_organisation_validates(app: Flask, client: FlaskClient, session: Any, body: dict[str, Any]) -> None:
    user = make_user(session)
    session.commit()
    assert client.post("/api/v1/organisations", json=body, headers=auth_headers(app, user)).status_code == 422


@pytest.fixture
def two_orgs(session: Any) -> dict[str, Any]:
    """Org A and org B, each with an admin, an organiser and a member; nobody belongs to both."""
    people: dict[str, Any] = {}
    for tag in ("a", "b"):
        admin, organiser, member = (make_user(session, email=f"{role}-{tag}@example.org")
                                    for role in ("admin", "organiser", "member"))
        org = make_org(session, name=f"Org {tag.upper()}",
                       members={admin: Role.ADMIN, organiser: Role.ORGANISER, member: Role.MEMBER})
        people[tag] = {"org": org, "admin": admin, "organiser": organiser, "member": member}
    session.commit()
    return people


# Every organisation-scoped operation (method, path template, body). A case list inside each test
# rather than a parametrize per case keeps the PostgreSQL tier quick (one wipe per actor, not per case).
CROSS_ORG_CASES = [
    ("get", "/api/v1/organisations/{org}", None),
    ("patch", "/api/v1/organisations/{org}", {"name": "Hijacked"}),
    ("get", "/api/v1/organisations/{org}/memberships", None),
    ("patch", "/api/v1/organisations/{org}/memberships/{victim}", {"role": "member"}),
    ("delete", "/api/v1/organisations/{org}/memberships/{victim}", None),
    ("get", "/api/v1/organisations/{org}/invitations", None),
    ("post", "/api/v1/organisations/{org}/invitations", {"role": "member"}),
    ("delete", "/api/v1/organisations/{org}/invitations/{invitation}", None),
]


@pytest.mark.parametrize(("home", "target"), [("a", "b"), ("b", "a")])
@pytest.mark.parametrize("actor", ["admin", "organiser", "member"])
def test_people_of_one_org_can_read_or_change_nothing_of_another(
        app: Flask, client: FlaskClient, session: Any, two_orgs: dict[str, Any], home: str, target: str,
        actor: str) -> None:
    target_org = two_orgs[target]["org"]
    victim = two_orgs[target]["admin"]
    invitation = _invite(client, app, target_org.id, victim).get_json()
    headers = auth_headers(app, two_orgs[home][actor])
    for method, path, body in CROSS_ORG_CASES:
        url = path.format(org=target_org.id, victim=victim.id, invitation=invitation["id"])
        resp = getattr(client, method)(url, json=body, headers=headers)
        assert resp.status_code == 404, f"{method} {path} gave {resp.status_code}"
        assert resp.mimetype == "application/problem+json"
    session.expire_all()
    assert session.get(Organisation, target_org.id).name == f"Org {target.upper()}"
    assert _membership(session, target_org.id, victim.id).role == Role.ADMIN
    assert [(i.id, i.revoked_at) for i in session.scalars(select(Invitation))] == [(invitation["id"], None)]


# (method, path template, body, roles allowed); the membership change comes last because it changes a role.
IN_ORG_CASES = [
    ("get", "/api/v1/organisations/{org}", None, {"admin", "organiser", "member"}),
    ("patch", "/api/v1/organisations/{org}", {"region": "Uusimaa"}, {"admin", "organiser"}),
    ("get", "/api/v1/organisations/{org}/invitations", None, {"admin", "organiser"}),
    ("post", "/api/v1/organisations/{org}/invitations", {"role": "member"}, {"admin", "organiser"}),
    ("get", "/api/v1/organisations/{org}/memberships", None, {"admin"}),
    ("patch", "/api/v1/organisations/{org}/memberships/{other}", {"role": "organiser"}, {"admin"}),
]


@pytest.mark.parametrize("org_tag", ["a", "b"])
@pytest.mark.parametrize("actor", ["admin", "organiser", "member"])
def test_roles_inside_an_organisation(app: Flask, client: FlaskClient, two_orgs: dict[str, Any], org_tag: str,
                                      actor: str) -> None:
    people = two_orgs[org_tag]
    headers = auth_headers(app, people[actor])
    for method, path, body, allowed in IN_ORG_CASES:
        url = path.format(org=people["org"].id, other=people["member"].id)
        resp = getattr(client, method)(url, json=body, headers=headers)
        if actor in allowed:
            assert resp.status_code in (200, 201), f"{method} {path}: {resp.get_json()}"
        else:
            assert resp.status_code == 403, f"{method} {path} gave {resp.status_code}"
            assert resp.get_json()["type"].endswith("/role-required")


def test_admin_changes_role_and_removes_member(app: Flask, client: FlaskClient, session: Any,
                                               two_orgs: dict[str, Any]) -> None:
    a = two_orgs["a"]
    headers = auth_headers(app, a["admin"])
    url = f"/api/v1/organisations/{a['org'].id}/memberships/{a['member'].id}"
    assert client.patch(url, json={"role": "organiser"}, headers=headers).get_json()["role"] == "organiser"
    listed = client.get(f"/api/v1/organisations/{a['org'].id}/memberships", headers=headers).get_json()["items"]
    assert {(m["email"], m["role"]) for m in listed} == {("admin-a@example.org", "admin"),
                                                          ("organiser-a@example.org", "organiser"),
                                                          ("member-a@example.org", "organiser")}
    assert client.delete(url, headers=headers).status_code == 204
    assert _membership(session, a["org"].id, a["member"].id) is None
    assert client.delete(url, headers=headers).status_code == 404


def test_last_admin_cannot_step_down_or_be_removed(app: Flask, client: FlaskClient, session: Any,
                                                   two_orgs: dict[str, Any]) -> None:
    a = two_orgs["a"]
    headers = auth_headers(app, a["admin"])
    url = f"/api/v1/organisations/{a['org'].id}/memberships/{a['admin'].id}"
    for resp in (client.patch(url, json={"role": "member"}, headers=headers), client.delete(url, headers=headers)):
        assert resp.status_code == 409
        assert resp.get_json()["type"].endswith("/last-admin")
    assert _membership(session, a["org"].id, a["admin"].id).role == Role.ADMIN
    promote = f"/api/v1/organisations/{a['org'].id}/memberships/{a['organiser'].id}"
    client.patch(promote, json={"role": "admin"}, headers=headers)
    assert client.delete(url, headers=headers).status_code == 204


def test_member_can_leave_but_not_remove_others(app: Flask, client: FlaskClient, session: Any,
                                                two_orgs: dict[str, Any]) -> None:
    a = two_orgs["a"]
    headers = auth_headers(app, a["member"])
    other = f"/api/v1/organisations/{a['org'].id}/memberships/{a['organiser'].id}"
    assert client.delete(other, headers=headers).status_code == 403
    mine = f"/api/v1/organisations/{a['org'].id}/memberships/{a['member'].id}"
    assert client.delete(mine, headers=headers).status_code == 204
    assert _membership(session, a["org"].id, a["member"].id) is None


def test_invitation_code_and_link_join_the_organisation(app: Flask, client: FlaskClient, session: Any,
                                                        two_orgs: dict[str, Any]) -> None:
    a = two_orgs["a"]
    created = _invite(client, app, a["org"].id, a["organiser"], role="member", max_uses=2)
    assert created.status_code == 201
    inv = created.get_json()
    assert inv["link"] == f"http://127.0.0.1:5000/join/{inv['code']}"
    newcomer = make_user(session)
    session.commit()
    preview = client.get(f"/api/v1/invitations/{inv['code']}").get_json()
    assert preview == {"code": inv["code"], "valid": True, "status": "valid",
                       "organisation": {"id": a["org"].id, "name": "Org A", "kind": "municipality"},
                       "organisation_id": a["org"].id, "organisation_name": "Org A", "role": "member",
                       "expires_at": inv["expires_at"], "reserved": False, "challenge": None, "team": None,
                       "will": ["join_organisation"]}
    resp = client.post(f"/api/v1/invitations/{inv['code']}/accept", headers=auth_headers(app, newcomer))
    assert resp.status_code == 200 and resp.get_json()["role"] == "member"
    assert _membership(session, a["org"].id, newcomer.id).role == Role.MEMBER
    again = client.post(f"/api/v1/invitations/{inv['code']}/accept", headers=auth_headers(app, newcomer))
    assert again.status_code == 200
    assert session.scalar(select(Invitation.uses)) == 1


def test_used_up_expired_revoked_and_unknown_invitations_are_clear_4xx(
        app: Flask, client: FlaskClient, session: Any, two_orgs: dict[str, Any]) -> None:
    a = two_orgs["a"]
    people = [make_user(session) for _ in range(4)]
    session.commit()
    once = _invite(client, app, a["org"].id, a["admin"], max_uses=1).get_json()
    client.post(f"/api/v1/invitations/{once['code']}/accept", headers=auth_headers(app, people[0]))
    used_up = client.post(f"/api/v1/invitations/{once['code']}/accept", headers=auth_headers(app, people[1]))
    assert used_up.status_code == 410 and used_up.get_json()["type"].endswith("/invitation-used-up")

    soon = _invite(client, app, a["org"].id, a["admin"], expires_in_days=1).get_json()
    with time_machine.travel(utcnow() + timedelta(days=2)):
        expired = client.post(f"/api/v1/invitations/{soon['code']}/accept", headers=auth_headers(app, people[1]))
    assert expired.status_code == 410 and expired.get_json()["type"].endswith("/invitation-expired")

    revoked = _invite(client, app, a["org"].id, a["admin"]).get_json()
    withdrawn = client.delete(f"/api/v1/organisations/{a['org'].id}/invitations/{revoked['id']}",
                              headers=auth_headers(app, a["organiser"]))
    assert withdrawn.status_code == 200 and withdrawn.get_json()["revoked_at"]
    resp = client.post(f"/api/v1/invitations/{revoked['code']}/accept", headers=auth_headers(app, people[2]))
    assert resp.status_code == 410 and resp.get_json()["type"].endswith("/invitation-revoked")

    unknown = client.post("/api/v1/invitations/nope/accept", headers=auth_headers(app, people[3]))
    assert unknown.status_code == 404
    for person in people[1:]:
        assert _membership(session, a["org"].id, person.id) is None


def test_invitation_reserved_for_an_email(app: Flask, client: FlaskClient, session: Any,
                                          two_orgs: dict[str, Any]) -> None:
    a = two_orgs["a"]
    invited, stranger = make_user(session, email="inv@example.org"), make_user(session)
    session.commit()
    inv = _invite(client, app, a["org"].id, a["admin"], email="INV@example.org", role="organiser").get_json()
    resp = client.post(f"/api/v1/invitations/{inv['code']}/accept", headers=auth_headers(app, stranger))
    assert resp.status_code == 403
    resp = client.post(f"/api/v1/invitations/{inv['code']}/accept", headers=auth_headers(app, invited))
    assert resp.get_json()["role"] == "organiser"


def test_organiser_cannot_invite_admins(app: Flask, client: FlaskClient, two_orgs: dict[str, Any]) -> None:
    a = two_orgs["a"]
    resp = _invite(client, app, a["org"].id, a["organiser"], role="admin")
    assert resp.status_code == 403 and resp.get_json()["type"].endswith("/role-too-high")
    assert _invite(client, app, a["org"].id, a["admin"], role="admin").status_code == 201


def test_invitation_of_another_org_cannot_be_withdrawn_through_mine(
        app: Flask, client: FlaskClient, two_orgs: dict[str, Any]) -> None:
    a, b = two_orgs["a"], two_orgs["b"]
    inv_b = _invite(client, app, b["org"].id, b["admin"]).get_json()
    resp = client.delete(f"/api/v1/organisations/{a['org'].id}/invitations/{inv_b['id']}",
                         headers=auth_headers(app, a["admin"]))
    assert resp.status_code == 404


def test_superuser_can_manage_any_organisation(app: Flask, client: FlaskClient, session: Any,
                                               two_orgs: dict[str, Any]) -> None:
    root = make_user(session, is_superuser=True)
    session.commit()
    resp = client.patch(f"/api/v1/organisations/{two_orgs['b']['org'].id}", json={"name": "Renamed"},
                        headers=auth_headers(app, root))
    assert resp.status_code == 200 and resp.get_json()["name"] == "Renamed"


def test_member_and_invitation_lists_paginate(app: Flask, client: FlaskClient, session: Any,
                                             two_orgs: dict[str, Any]) -> None:
    a = two_orgs["a"]
    for _ in range(3):
        _invite(client, app, a["org"].id, a["admin"])
    headers = auth_headers(app, a["admin"])
    for what, total in (("memberships", 3), ("invitations", 3)):
        url = f"/api/v1/organisations/{a['org'].id}/{what}?limit=2"
        first = client.get(url, headers=headers).get_json()
        second = client.get(f"{url}&cursor={first['next']}", headers=headers).get_json()
        assert len(first["items"]) == 2 and len(second["items"]) == total - 2 and second["next"] is None
        keys = [i.get("id", i.get("user_id")) for i in first["items"] + second["items"]]
        assert len(set(keys)) == total


def test_roles_are_read_once_per_request_and_a_membership_written_in_it_is_seen(app: Flask, session: Any) -> None:
    from sqlalchemy import event

    from service.auth import role_in

    user = make_user(session)
    first, second = make_org(session, members={user: Role.ORGANISER}), make_org(session)
    session.commit()
    reads: list[str] = []
    listener = lambda *a: reads.append(a[2]) if "memberships" in a[2] else None  # noqa: E731
    event.listen(session.get_bind(), "before_cursor_execute", listener)
    try:
        with app.test_request_context():
            assert role_in(session, user, first.id) is Role.ORGANISER
            assert role_in(session, user, second.id) is None
            assert len(reads) == 1
            session.add(Membership(user_id=user.id, organisation_id=second.id, role=Role.ADMIN))
            session.flush()
            assert role_in(session, user, second.id) is Role.ADMIN
        with app.test_request_context():
            assert role_in(session, user, second.id) is Role.ADMIN
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", listener)
    assert len([r for r in reads if r.lstrip().upper().startswith("SELECT")]) == 3
