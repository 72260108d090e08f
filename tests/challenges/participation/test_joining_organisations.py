"""Joining through challenges: a citizen picks their city in the enrolment call, and one invitation link
carries organisation, challenge and team."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from challenges.models import ChallengeFormat, Enrolment, Visibility
from service.models import Invitation, JoinedVia, Membership, MembershipPolicy
from tests.challenges.conftest import Cast
from tests.challenges.factories import make_challenge, make_team
from tests.factories import auth_headers, make_org, make_user


def _city_contest(session: Any, cast: Cast) -> Any:
    challenge = make_challenge(session, cast.org, format=ChallengeFormat.ORGANISATION)
    make_team(session, challenge, cast.organiser, "Tampere", organisation_id=cast.org.id)
    make_team(session, challenge, cast.organiser, "Espoo", organisation_id=cast.other_org.id)
    cast.org.membership_policy = MembershipPolicy.OPEN
    cast.other_org.membership_policy = MembershipPolicy.OPEN
    cast.other_org.areas = ["02100", "02600"]
    session.commit()
    return challenge


def _member(session: Any, org_id: int, user_id: int) -> Membership | None:
    session.expire_all()
    return session.scalar(select(Membership).where(Membership.organisation_id == org_id,
                                                   Membership.user_id == user_id))


def test_a_citizen_picks_an_open_city_and_becomes_its_member_in_the_enrolment_call(
        app: Flask, client: FlaskClient, session: Any, cast: Cast) -> None:
    challenge = _city_contest(session, cast)
    url = f"/api/v1/challenges/{challenge.id}/enrolment"
    asked = client.post(url, json={}, headers=cast.headers(app, "outsider"))
    assert asked.status_code == 400 and asked.json["type"].endswith("/choose-organisation")
    assert asked.json["choices"] == sorted([cast.org.id, cast.other_org.id])
    assert {o["name"]: o["areas"] for o in asked.json["options"]} == {"Tampere": [], "Espoo": ["02100", "02600"]}
    no_area = client.post(url, json={"organisation_id": cast.other_org.id}, headers=cast.headers(app, "outsider"))
    assert no_area.status_code == 422 and no_area.json["type"].endswith("/choose-area")
    assert session.scalar(select(Enrolment).where(Enrolment.user_id == cast.outsider.id)) is None
    joined = client.post(url, json={"organisation_id": cast.other_org.id, "area": "02600"},
                         headers=cast.headers(app, "outsider"))
    assert joined.status_code == 201 and joined.json["organisation_id"] == cast.other_org.id
    made = _member(session, cast.other_org.id, cast.outsider.id)
    assert made is not None and made.joined_via == JoinedVia.OPEN and made.area == "02600"
    member = client.post(url, json={}, headers=cast.headers(app, "member"))
    assert member.status_code == 201 and member.json["organisation_id"] == cast.org.id


def test_a_city_admitting_by_invitation_only_cannot_be_picked(
        app: Flask, client: FlaskClient, session: Any, cast: Cast) -> None:
    challenge = _city_contest(session, cast)
    cast.other_org.membership_policy = MembershipPolicy.INVITATION
    cast.org.membership_policy = MembershipPolicy.INVITATION
    session.commit()
    url = f"/api/v1/challenges/{challenge.id}/enrolment"
    nothing = client.post(url, json={}, headers=cast.headers(app, "outsider"))
    assert nothing.status_code == 409 and nothing.json["type"].endswith("/no-participating-organisation")
    picked = client.post(url, json={"organisation_id": cast.other_org.id}, headers=cast.headers(app, "outsider"))
    assert picked.status_code == 403 and picked.json["type"].endswith("/not-a-participating-member")
    assert _member(session, cast.other_org.id, cast.outsider.id) is None


def test_only_a_verified_employee_address_picks_the_employer(
        app: Flask, client: FlaskClient, session: Any, cast: Cast) -> None:
    challenge = _city_contest(session, cast)
    employer = make_org(session, name="Acme", kind="employer")
    employer.membership_policy, employer.email_domains = MembershipPolicy.EMAIL_DOMAIN, ["acme.example"]
    make_team(session, challenge, cast.organiser, "Acme", organisation_id=employer.id)
    unverified = make_user(session, email="u@acme.example")
    verified = make_user(session, email="v@acme.example", email_verified_at=datetime(2026, 1, 1, tzinfo=UTC))
    session.commit()
    url = f"/api/v1/challenges/{challenge.id}/enrolment"
    asked = client.post(url, json={}, headers=auth_headers(app, unverified))
    assert employer.id not in asked.json["choices"]
    refused = client.post(url, json={"organisation_id": employer.id}, headers=auth_headers(app, unverified))
    assert refused.status_code == 403 and refused.json["type"].endswith("/email-not-verified")
    ok = client.post(url, json={"organisation_id": employer.id}, headers=auth_headers(app, verified))
    assert ok.status_code == 201 and ok.json["organisation_id"] == employer.id
    assert _member(session, employer.id, verified.id).joined_via == JoinedVia.EMAIL_DOMAIN  # type: ignore[union-attr]


def _invite(client: FlaskClient, app: Flask, cast: Cast, **body: Any) -> Any:
    return client.post(f"/api/v1/organisations/{cast.org.id}/invitations", json=body,
                       headers=cast.headers(app, "organiser"))


def test_one_link_makes_a_member_enrols_in_an_invite_only_challenge_and_puts_in_the_team(
        app: Flask, client: FlaskClient, session: Any, cast: Cast) -> None:
    challenge = make_challenge(session, cast.org, format=ChallengeFormat.TEAM, visibility=Visibility.INVITE,
                               title="Step up at work")
    sales = make_team(session, challenge, cast.organiser, "Sales")
    session.commit()
    created = _invite(client, app, cast, challenge_id=challenge.id, team_id=sales.id)
    assert created.status_code == 201 and created.json["team_id"] == sales.id
    code = created.json["code"]
    preview = client.get(f"/api/v1/invitations/{code}")
    assert preview.status_code == 200 and preview.json["valid"] is True
    assert preview.json["challenge"]["title"] == "Step up at work" and preview.json["team"]["name"] == "Sales"
    assert preview.json["will"] == ["join_organisation", "enrol", "join_team"]
    assert "email" not in preview.json and "created_by_id" not in preview.json
    newcomer = make_user(session)
    session.commit()
    for _ in range(2):
        accepted = client.post(f"/api/v1/invitations/{code}/accept", headers=auth_headers(app, newcomer))
        assert accepted.status_code == 200
        assert (accepted.json["challenge_id"], accepted.json["team_id"]) == (challenge.id, sales.id)
    session.expire_all()
    enrolment = session.scalar(select(Enrolment).where(Enrolment.user_id == newcomer.id))
    assert enrolment is not None and enrolment.team_id == sales.id and enrolment.left_at is None
    assert _member(session, cast.org.id, newcomer.id).joined_via == JoinedVia.INVITATION  # type: ignore[union-attr]
    assert session.scalar(select(Invitation.uses).where(Invitation.code == code)) == 1


def test_an_invitation_names_only_a_team_of_its_challenge_and_a_challenge_of_its_organisation(
        app: Flask, client: FlaskClient, session: Any, cast: Cast) -> None:
    ours = make_challenge(session, cast.org, format=ChallengeFormat.TEAM)
    theirs = make_challenge(session, cast.other_org, format=ChallengeFormat.TEAM)
    joint = make_challenge(session, cast.other_org, format=ChallengeFormat.ORGANISATION)
    make_team(session, joint, cast.foreign_organiser, "Tampere", organisation_id=cast.org.id)
    their_team = make_team(session, theirs, cast.foreign_organiser, "Theirs")
    session.commit()
    cases = {
        "team-not-in-challenge": {"challenge_id": ours.id, "team_id": their_team.id},
        "challenge-not-of-organisation": {"challenge_id": theirs.id},
        "invitation-challenge-unknown": {"challenge_id": 999_999},
        "team-needs-challenge": {"team_id": their_team.id},
    }
    for code, body in cases.items():
        resp = _invite(client, app, cast, **body)
        assert resp.status_code == 422 and resp.json["type"].endswith(f"/{code}"), code
    assert _invite(client, app, cast, challenge_id=joint.id).status_code == 201
    assert session.scalar(select(Invitation.id).where(Invitation.challenge_id == theirs.id)) is None


def test_accepting_a_joint_challenge_link_counts_the_person_for_the_inviting_organisation(
        app: Flask, client: FlaskClient, session: Any, cast: Cast) -> None:
    joint = make_challenge(session, cast.other_org, format=ChallengeFormat.ORGANISATION)
    make_team(session, joint, cast.foreign_organiser, "Tampere", organisation_id=cast.org.id)
    make_team(session, joint, cast.foreign_organiser, "Espoo", organisation_id=cast.other_org.id)
    session.commit()
    code = _invite(client, app, cast, challenge_id=joint.id).json["code"]
    accepted = client.post(f"/api/v1/invitations/{code}/accept", headers=cast.headers(app, "outsider"))
    assert accepted.status_code == 200 and accepted.json["challenge_id"] == joint.id
    session.expire_all()
    enrolment = session.scalar(select(Enrolment).where(Enrolment.user_id == cast.outsider.id))
    assert enrolment is not None and enrolment.organisation_id == cast.org.id


def test_accepting_a_one_use_link_again_is_no_error_once_the_person_is_there(
        app: Flask, client: FlaskClient, session: Any, cast: Cast) -> None:
    challenge = make_challenge(session, cast.org, format=ChallengeFormat.TEAM)
    team = make_team(session, challenge, cast.organiser, "Ops")
    session.commit()
    code = _invite(client, app, cast, challenge_id=challenge.id, team_id=team.id, max_uses=1).json["code"]
    url = f"/api/v1/invitations/{code}/accept"
    assert client.post(url, headers=cast.headers(app, "outsider")).status_code == 200
    again = client.post(url, headers=cast.headers(app, "outsider"))
    assert again.status_code == 200 and again.json["team_id"] == team.id
    client.delete(f"/api/v1/challenges/{challenge.id}/enrolment", headers=cast.headers(app, "outsider"))
    after_leaving = client.post(url, headers=cast.headers(app, "outsider"))
    assert after_leaving.status_code == 410 and after_leaving.json["type"].endswith("/invitation-used-up")
    someone_else = client.post(url, headers=cast.headers(app, "member"))
    assert someone_else.status_code == 410
