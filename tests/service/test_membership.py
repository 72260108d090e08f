"""How people become members: the policy an organisation's admins choose, joining by oneself, and domain
memberships that end when the address no longer admits the person."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.models import AuditEvent, JoinedVia, Membership, Role, User
from tests.factories import auth_headers, make_org, make_user

VERIFIED = datetime(2026, 1, 2, tzinfo=UTC)


@pytest.fixture
def city(session: Any) -> dict[str, Any]:
    admin, organiser = make_user(session), make_user(session)
    org = make_org(session, name="Tampere", members={admin: Role.ADMIN, organiser: Role.ORGANISER})
    session.commit()
    return {"org": org, "admin": admin, "organiser": organiser}


def _patch(client: FlaskClient, app: Flask, org_id: int, who: User, **body: Any) -> Any:
    return client.patch(f"/api/v1/organisations/{org_id}", json=body, headers=auth_headers(app, who))


def _join(client: FlaskClient, app: Flask, org_id: int, who: User, **body: Any) -> Any:
    return client.post(f"/api/v1/organisations/{org_id}/membership", json=body, headers=auth_headers(app, who))


def _membership(session: Any, org_id: int, user_id: int) -> Membership | None:
    session.expire_all()
    return session.scalar(select(Membership).where(Membership.organisation_id == org_id,
                                                   Membership.user_id == user_id))


def test_an_invitation_only_organisation_stays_hidden_from_people_joining_by_themselves(
        app: Flask, client: FlaskClient, session: Any, city: dict[str, Any]) -> None:
    resident = make_user(session)
    session.commit()
    org_id = city["org"].id
    assert client.get(f"/api/v1/organisations/{org_id}", headers=auth_headers(app, resident)).status_code == 404
    refused = _join(client, app, org_id, resident)
    assert refused.status_code == 404 and _membership(session, org_id, resident.id) is None


def test_admins_open_the_city_with_areas_and_residents_join_by_picking_one(
        app: Flask, client: FlaskClient, session: Any, city: dict[str, Any]) -> None:
    org_id = city["org"].id
    opened = _patch(client, app, org_id, city["admin"], membership_policy="open", areas=["33100", "33200", "33100"])
    assert opened.status_code == 200
    assert opened.json["membership_policy"] == "open" and opened.json["areas"] == ["33100", "33200"]
    resident = make_user(session)
    session.commit()
    seen = client.get(f"/api/v1/organisations/{org_id}", headers=auth_headers(app, resident))
    assert seen.status_code == 200 and seen.json["areas"] == ["33100", "33200"] and seen.json["my_role"] is None
    missing = _join(client, app, org_id, resident)
    assert missing.status_code == 422 and missing.json["type"].endswith("/choose-area")
    assert missing.json["choices"] == ["33100", "33200"]
    unknown = _join(client, app, org_id, resident, area="99999")
    assert unknown.status_code == 422 and unknown.json["type"].endswith("/area-unknown")
    joined = _join(client, app, org_id, resident, area="33200")
    assert joined.status_code == 200 and joined.json["joined_via"] == "open" and joined.json["area"] == "33200"
    again = _join(client, app, org_id, resident, area="33100")
    assert again.status_code == 200
    stored = _membership(session, org_id, resident.id)
    assert stored is not None and stored.role == Role.MEMBER and stored.area == "33100"
    assert stored.joined_via == JoinedVia.OPEN


def test_only_admins_choose_the_policy_and_the_change_is_audited(
        app: Flask, client: FlaskClient, session: Any, city: dict[str, Any]) -> None:
    org_id = city["org"].id
    by_organiser = _patch(client, app, org_id, city["organiser"], membership_policy="open")
    assert by_organiser.status_code == 403
    renamed = _patch(client, app, org_id, city["organiser"], name="Tampere city")
    assert renamed.status_code == 200
    no_domains = _patch(client, app, org_id, city["admin"], membership_policy="email_domain")
    assert no_domains.status_code == 422 and no_domains.json["type"].endswith("/email-domains-required")
    bad = _patch(client, app, org_id, city["admin"], email_domains=["not a domain"])
    assert bad.status_code == 422
    ok = _patch(client, app, org_id, city["admin"], membership_policy="email_domain",
                email_domains=["@Tampere.Example", "tuni.example"])
    assert ok.status_code == 200 and ok.json["email_domains"] == ["tampere.example", "tuni.example"]
    assert _patch(client, app, org_id, city["admin"], membership_policy="email_domain").status_code == 200
    events = session.scalars(select(AuditEvent).where(AuditEvent.organisation_id == org_id)
                             .order_by(AuditEvent.id)).all()
    assert [(e.action, e.detail) for e in events] == [
        ("organisation.updated", {"fields": ["name"]}),
        ("organisation.membership_policy_changed", {"old_policy": "invitation", "new_policy": "email_domain",
                                                    "email_domains": ["tampere.example", "tuni.example"],
                                                    "areas": 0}),
    ]
    assert all(e.actor_id in (city["admin"].id, city["organiser"].id) for e in events)


def test_only_a_verified_address_in_the_domains_joins_by_itself(
        app: Flask, client: FlaskClient, session: Any, city: dict[str, Any]) -> None:
    org_id = city["org"].id
    _patch(client, app, org_id, city["admin"], membership_policy="email_domain", email_domains=["acme.example"])
    unverified = make_user(session, email="una@acme.example")
    verified = make_user(session, email="vera@uk.acme.example", email_verified_at=VERIFIED)
    elsewhere = make_user(session, email="eli@other.example", email_verified_at=VERIFIED)
    session.commit()
    first = _join(client, app, org_id, unverified)
    assert first.status_code == 403 and first.json["type"].endswith("/email-not-verified")
    other = _join(client, app, org_id, elsewhere)
    assert other.status_code == 403 and other.json["type"].endswith("/email-domain-not-admitted")
    assert other.json["email_domains"] == ["acme.example"]
    joined = _join(client, app, org_id, verified)
    assert joined.status_code == 200 and joined.json["joined_via"] == "email_domain"
    assert _membership(session, org_id, unverified.id) is None and _membership(session, org_id, elsewhere.id) is None
    assert _membership(session, org_id, verified.id) is not None


def test_a_domain_membership_ends_when_the_address_changes_or_is_no_longer_verified(
        app: Flask, client: FlaskClient, session: Any, city: dict[str, Any]) -> None:
    from service import membership

    org = city["org"]
    _patch(client, app, org.id, city["admin"], membership_policy="email_domain", email_domains=["acme.example"])
    leaver = make_user(session, email="lea@acme.example", email_verified_at=VERIFIED)
    lapsing = make_user(session, email="lap@acme.example", email_verified_at=VERIFIED)
    promoted = make_user(session, email="pro@acme.example", email_verified_at=VERIFIED)
    session.commit()
    session.refresh(org)
    for person in (leaver, lapsing, promoted):
        membership.join(session, org, person)
    _membership(session, org.id, promoted.id).role = Role.ORGANISER  # type: ignore[union-attr]
    session.commit()
    leaver.email = "lea@private.example"
    lapsing.email_verified_at = None
    promoted.email = "pro@private.example"
    session.commit()
    assert _membership(session, org.id, leaver.id) is None
    assert _membership(session, org.id, lapsing.id) is None
    assert _membership(session, org.id, promoted.id) is not None  # an admin chose them: stays


def test_taking_a_domain_off_the_list_ends_the_memberships_it_made_and_no_other(
        app: Flask, client: FlaskClient, session: Any, city: dict[str, Any]) -> None:
    org_id = city["org"].id
    _patch(client, app, org_id, city["admin"], membership_policy="email_domain",
           email_domains=["acme.example", "old.example"])
    stays = make_user(session, email="s@acme.example", email_verified_at=VERIFIED)
    goes = make_user(session, email="g@old.example", email_verified_at=VERIFIED)
    session.commit()
    assert _join(client, app, org_id, stays).status_code == 200
    assert _join(client, app, org_id, goes).status_code == 200
    assert _patch(client, app, org_id, city["admin"], email_domains=["acme.example"]).status_code == 200
    assert _membership(session, org_id, stays.id) is not None
    assert _membership(session, org_id, goes.id) is None
    assert _membership(session, org_id, city["admin"].id) is not None


def test_admins_remove_members_of_an_open_city_and_they_may_join_again(
        app: Flask, client: FlaskClient, session: Any, city: dict[str, Any]) -> None:
    org_id = city["org"].id
    _patch(client, app, org_id, city["admin"], membership_policy="open")
    resident = make_user(session)
    session.commit()
    assert _join(client, app, org_id, resident).status_code == 200
    listed = client.get(f"/api/v1/organisations/{org_id}/memberships", headers=auth_headers(app, city["admin"]))
    assert {m["user_id"]: m["joined_via"] for m in listed.json["items"]}[resident.id] == "open"
    removed = client.delete(f"/api/v1/organisations/{org_id}/memberships/{resident.id}",
                            headers=auth_headers(app, city["admin"]))
    assert removed.status_code == 204 and _membership(session, org_id, resident.id) is None
    assert session.scalar(select(AuditEvent.action).where(AuditEvent.action == "membership.removed")) is not None


def test_the_personal_data_export_holds_how_i_joined_and_the_area_i_picked(
        app: Flask, client: FlaskClient, session: Any, city: dict[str, Any]) -> None:
    org_id = city["org"].id
    _patch(client, app, org_id, city["admin"], membership_policy="open", areas=["Hervanta"])
    resident = make_user(session)
    session.commit()
    assert _join(client, app, org_id, resident, area="hervanta").status_code == 200
    export = client.get("/api/v1/me/export", headers=auth_headers(app, resident)).json
    assert [(m["organisation_name"], m["joined_via"], m["area"]) for m in export["sections"]["memberships"]] == [
        ("Tampere", "open", "Hervanta")]
