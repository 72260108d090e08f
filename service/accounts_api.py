"""The caller's profile, organisations and memberships (invitations: service.invitations_api).

Every role check names the organisation in the URL (service.org_access): a non-member gets 404 (private
organisations are not probed), a member without the needed role gets 403.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from service import accounts, audit, consent, invitations_api, membership
from service.account_schemas import (
    AuditPageSchema,
    AuditQueryArgsSchema,
    ConsentGrantSchema,
    ConsentsSchema,
    ConsentStateSchema,
    JoinSchema,
    MembershipPageSchema,
    MembershipSchema,
    MembershipUpdateSchema,
    OrganisationCreateSchema,
    OrganisationListArgsSchema,
    OrganisationPageSchema,
    OrganisationSchema,
    OrganisationUpdateSchema,
    UserSchema,
    UserUpdateSchema,
)
from service.auth import auth_required, current_user
from service.db import db
from service.errors import Forbidden, NotFound
from service.models import Membership, MembershipPolicy, Organisation, Role, User
from service.org_access import ANY_ROLE, STAFF, after_id, id_page, organisation_for
from service.schemas import PaginationArgsSchema

me_blp = Blueprint("me", __name__, url_prefix="/api/v1/me", description="The signed-in person's profile.")
org_blp = Blueprint("organisations", __name__, url_prefix="/api/v1/organisations",
                    description="Organisations (cities, employers, clubs, schools), members and invitations.")
POLICY_FIELDS = ("membership_policy", "email_domains", "areas")


def _joinable(organisation_id: int) -> Organisation:
    """An organisation people may join by themselves; one admitting by invitation only stays hidden (404)."""
    org = db.session.get(Organisation, organisation_id)
    if org is None or org.membership_policy == MembershipPolicy.INVITATION:
        raise NotFound("No such organisation.", code="organisation-not-found")
    return org

@me_blp.route("")
class Me(MethodView):
    @auth_required
    @me_blp.response(200, UserSchema)
    def get(self) -> User:
        """Read my profile"""
        return current_user()

    @auth_required
    @me_blp.arguments(UserUpdateSchema)
    @me_blp.response(200, UserSchema)
    def patch(self, changes: dict[str, Any]) -> User:
        """Change my profile (name, time zone, locale, leaderboard visibility, weight)"""
        user = accounts.update_profile(db.session, current_user(), changes)
        db.session.commit()
        return user

    @auth_required
    @me_blp.response(204)
    def delete(self) -> Response:
        """Delete my account (my data leaves boards and organisations; this cannot be undone)"""
        accounts.delete_user(db.session, current_user(), secret=current_app.config["SECRET_KEY"])
        db.session.commit()
        return Response(status=204)


def _consents(user: User) -> dict[str, Any]:
    return {"items": [consent.state(user)], "records": consent.records(db.session, user.id)}


@me_blp.route("/consents")
class MyConsents(MethodView):
    @auth_required
    @me_blp.response(200, ConsentsSchema)
    def get(self) -> dict[str, Any]:
        """My consents: whether processing my health data (needed to log activity) is allowed, and every change"""
        return _consents(current_user())


@me_blp.route("/consents/health_data")
class HealthDataConsent(MethodView):
    @auth_required
    @me_blp.arguments(ConsentGrantSchema)
    @me_blp.response(200, ConsentStateSchema)
    def put(self, data: dict[str, Any]) -> dict[str, Any]:
        """Consent to processing my health data (activity), against the privacy notice version the app showed"""
        user = consent.grant(db.session, current_user(), data["notice_version"])
        db.session.commit()
        return consent.state(user)

    @auth_required
    @me_blp.response(200, ConsentStateSchema)
    def delete(self) -> dict[str, Any]:
        """Withdraw that consent: no new activity comes in; what was logged stays until I delete it"""
        user = consent.withdraw(db.session, current_user())
        db.session.commit()
        return consent.state(user)


@org_blp.route("")
class Organisations(MethodView):
    @auth_required
    @org_blp.arguments(OrganisationListArgsSchema, location="query")
    @org_blp.response(200, OrganisationPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List the organisations I belong to, with my role in each"""
        rows = db.session.execute(
            select(Organisation, Membership.role).join(Membership, Membership.organisation_id == Organisation.id)
            .where(Membership.user_id == current_user().id, Organisation.id > (after_id(args["cursor"]) or 0))
            .order_by(Organisation.id).limit(args["limit"] + 1)).all()
        for org, role in rows:
            org.my_role = role
        return id_page([org for org, _ in rows], args["limit"])

    @auth_required
    @org_blp.arguments(OrganisationCreateSchema)
    @org_blp.response(201, OrganisationSchema)
    def post(self, data: dict[str, Any]) -> Organisation:
        """Create an organisation; I become its admin"""
        org = accounts.create_organisation(db.session, creator=current_user(), **data)
        db.session.commit()
        org.my_role = Role.ADMIN  # type: ignore[attr-defined]
        return org


@org_blp.route("/<int:organisation_id>")
class OrganisationById(MethodView):
    @auth_required
    @org_blp.response(200, OrganisationSchema)
    def get(self, organisation_id: int) -> Organisation:
        """Read an organisation I belong to, or one I may join by myself (open, or by e-mail domain)"""
        user = current_user()
        found = membership.find(db.session, organisation_id, user.id)
        if found is None and not user.is_superuser:
            org = _joinable(organisation_id)
            org.my_role = None  # type: ignore[attr-defined]
            return org
        return organisation_for(organisation_id)[0]

    @auth_required
    @org_blp.arguments(OrganisationUpdateSchema)
    @org_blp.response(200, OrganisationSchema)
    def patch(self, changes: dict[str, Any], organisation_id: int) -> Organisation:
        """Change an organisation (its admins and organisers; how people become members: its admins)"""
        org, role = organisation_for(organisation_id, STAFF)
        if role != Role.ADMIN and any(name in changes for name in POLICY_FIELDS):
            raise Forbidden("Only the organisation's admins choose how people become members.",
                            code="role-required")
        before = audit.snapshot(org, changes)
        policy_before = {name: getattr(org, name) for name in POLICY_FIELDS}
        accounts.update_organisation(db.session, org, changes)
        if fields := [f for f in audit.changed(org, before) if f not in POLICY_FIELDS]:
            audit.record(db.session, actor=current_user(), organisation_id=org.id, action="organisation.updated",
                         target_type="organisation", target_id=org.id, detail={"fields": fields})
        if policy_before != {name: getattr(org, name) for name in POLICY_FIELDS}:
            audit.record(db.session, actor=current_user(), organisation_id=org.id,
                         action="organisation.membership_policy_changed", target_type="organisation",
                         target_id=org.id, detail={
                             "old_policy": policy_before["membership_policy"].value,
                             "new_policy": org.membership_policy.value, "email_domains": org.email_domains or [],
                             "areas": len(org.areas or [])})
        db.session.commit()
        return org


@org_blp.route("/<int:organisation_id>/membership")
class MyMembership(MethodView):
    @auth_required
    @org_blp.arguments(JoinSchema)
    @org_blp.response(200, MembershipSchema)
    def post(self, data: dict[str, Any], organisation_id: int) -> Membership:
        """Join an organisation by myself: an open one (picking one of its areas when it lists some), or one
        whose e-mail domains hold my verified address; repeating it changes nothing (or my area)"""
        user = current_user()
        org = db.session.get(Organisation, organisation_id)
        if org is None or (org.membership_policy == MembershipPolicy.INVITATION
                           and membership.find(db.session, organisation_id, user.id) is None):
            raise NotFound("No such organisation.", code="organisation-not-found")
        joined = membership.join(db.session, org, user, area=data["area"])
        db.session.commit()
        return joined


@org_blp.route("/<int:organisation_id>/memberships")
class Memberships(MethodView):
    @auth_required
    @org_blp.arguments(PaginationArgsSchema, location="query")
    @org_blp.response(200, MembershipPageSchema)
    def get(self, args: dict[str, Any], organisation_id: int) -> dict[str, Any]:
        """List the members and their roles (admins)"""
        organisation_for(organisation_id, (Role.ADMIN,))
        after = after_id(args["cursor"]) or 0
        rows = list(db.session.scalars(select(Membership).where(Membership.organisation_id == organisation_id,
                                                                Membership.id > after)
                                       .order_by(Membership.id).limit(args["limit"] + 1)))
        return id_page(rows, args["limit"])


@org_blp.route("/<int:organisation_id>/memberships/<int:user_id>")
class MembershipById(MethodView):
    @auth_required
    @org_blp.arguments(MembershipUpdateSchema)
    @org_blp.response(200, MembershipSchema)
    def patch(self, data: dict[str, Any], organisation_id: int, user_id: int) -> Membership:
        """Change a member's role (admins; the last admin cannot step down)"""
        organisation_for(organisation_id, (Role.ADMIN,))
        membership = accounts.get_membership(db.session, organisation_id, user_id)
        old_role = membership.role
        accounts.change_role(db.session, membership, data["role"])
        if membership.role != old_role:
            audit.record(db.session, actor=current_user(), organisation_id=organisation_id,
                         action="membership.role_changed", target_type="membership", target_id=membership.id,
                         detail={"user_id": user_id, "old_role": old_role.value, "new_role": membership.role.value})
        db.session.commit()
        return membership

    @auth_required
    @org_blp.response(204)
    def delete(self, organisation_id: int, user_id: int) -> Response:
        """Remove a member (admins), or leave the organisation myself"""
        by_admin = user_id != current_user().id
        organisation_for(organisation_id, (Role.ADMIN,) if by_admin else ANY_ROLE)
        membership = accounts.get_membership(db.session, organisation_id, user_id)
        membership_id, role = membership.id, membership.role
        accounts.remove_membership(db.session, membership)
        if by_admin:
            audit.record(db.session, actor=current_user(), organisation_id=organisation_id,
                         action="membership.removed", target_type="membership", target_id=membership_id,
                         detail={"user_id": user_id, "role": role.value})
        db.session.commit()
        return Response(status=204)


@org_blp.route("/<int:organisation_id>/audit")
class OrganisationAudit(MethodView):
    @auth_required
    @org_blp.arguments(AuditQueryArgsSchema, location="query")
    @org_blp.response(200, AuditPageSchema)
    def get(self, args: dict[str, Any], organisation_id: int) -> dict[str, Any]:
        """The audit trail of organisers' and admins' actions in this organisation, newest first (admins)"""
        organisation_for(organisation_id, (Role.ADMIN,))
        items, next_cursor = audit.trail(db.session, organisation_id, **args)
        return {"items": items, "next": next_cursor}


blueprints: list[Blueprint] = [me_blp, org_blp, *invitations_api.blueprints]
