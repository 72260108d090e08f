"""Invitations: organisers create, mail, list and withdraw them; anyone previews one by its code; a signed-in
person accepts it (service.invitations, service.bulk_invitations)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError

from service import audit, bulk_invitations, invitations
from service.account_schemas import (
    InvitationAcceptedSchema,
    InvitationBulkReportSchema,
    InvitationBulkSchema,
    InvitationCreateSchema,
    InvitationPageSchema,
    InvitationPreviewSchema,
    InvitationSchema,
)
from service.auth import auth_required, current_user
from service.clock import utcnow
from service.db import db
from service.errors import NotFound
from service.models import Invitation, Membership
from service.org_access import STAFF, after_id, id_page, organisation_for
from service.schemas import PaginationArgsSchema

org_inv_blp = Blueprint("organisation-invitations", __name__, url_prefix="/api/v1/organisations",
                        description="An organisation's invitations: codes and links, one or many by e-mail.")
inv_blp = Blueprint("invitations", __name__, url_prefix="/api/v1/invitations",
                    description="See where an invitation code leads, and accept it.")


def _base_url() -> str:
    return str(current_app.extensions["vcc_settings"].public_base_url)


@org_inv_blp.route("/<int:organisation_id>/invitations")
class Invitations(MethodView):
    @auth_required
    @org_inv_blp.arguments(PaginationArgsSchema, location="query")
    @org_inv_blp.response(200, InvitationPageSchema)
    def get(self, args: dict[str, Any], organisation_id: int) -> dict[str, Any]:
        """List invitations, newest first (admins and organisers)"""
        organisation_for(organisation_id, STAFF)
        return id_page(invitations.list_for(db.session, organisation_id, limit=args["limit"] + 1,
                                          before_id=after_id(args["cursor"])), args["limit"])

    @auth_required
    @org_inv_blp.arguments(InvitationCreateSchema)
    @org_inv_blp.response(201, InvitationSchema)
    def post(self, data: dict[str, Any], organisation_id: int) -> Invitation:
        """Create an invitation code and link (admins and organisers); one reserved for an address is mailed
        to it"""
        org, role = organisation_for(organisation_id, STAFF)
        days = data.pop("expires_in_days", None)
        invitation = invitations.create_invitation(
            db.session, organisation=org, created_by=current_user(), inviter_role=role,
            expires_in=timedelta(days=days) if days else None, **data)
        bulk_invitations.mail_invitation(db.session, invitation, current_user(), _base_url(), utcnow())
        audit.record(db.session, actor=current_user(), organisation_id=organisation_id, action="invitation.created",
                     target_type="invitation", target_id=invitation.id,
                     detail={"role": invitation.role.value, "max_uses": invitation.max_uses,
                             "email_domain": audit.email_domain(invitation.email),
                             **({"challenge_id": invitation.challenge_id, "team_id": invitation.team_id}
                                if invitation.challenge_id else {})})
        db.session.commit()
        return invitation


@org_inv_blp.route("/<int:organisation_id>/invitations/<int:invitation_id>")
class InvitationById(MethodView):
    @auth_required
    @org_inv_blp.response(200, InvitationSchema)
    def delete(self, organisation_id: int, invitation_id: int) -> Invitation:
        """Withdraw an invitation (admins and organisers)"""
        organisation_for(organisation_id, STAFF)
        invitation = db.session.get(Invitation, invitation_id)
        if invitation is None or invitation.organisation_id != organisation_id:
            raise NotFound("No such invitation.", code="invitation-not-found")
        if invitation.revoked_at is None:
            invitations.revoke(db.session, invitation)
            audit.record(db.session, actor=current_user(), organisation_id=organisation_id,
                         action="invitation.revoked", target_type="invitation", target_id=invitation.id,
                         detail={"role": invitation.role.value})
        db.session.commit()
        return invitation


@org_inv_blp.route("/<int:organisation_id>/invitations/bulk")
class BulkInvitations(MethodView):
    @auth_required
    @org_inv_blp.arguments(InvitationBulkSchema)
    @org_inv_blp.response(200, InvitationBulkReportSchema)
    def post(self, data: dict[str, Any], organisation_id: int) -> dict[str, Any]:
        """Invite a pasted list or CSV of e-mail addresses (admins and organisers): each gets an invitation of
        its own and one mail; every line is reported; sending the same list again invites no one twice"""
        org, role = organisation_for(organisation_id, STAFF)
        days = data.pop("expires_in_days", None)
        report = bulk_invitations.invite_many(
            db.session, organisation=org, created_by=current_user(), inviter_role=role, base_url=_base_url(),
            now=utcnow(), expires_in=timedelta(days=days) if days else None, **data)
        counts = dict(Counter(row["status"] for row in report))
        if counts.get("invited"):
            audit.record(db.session, actor=current_user(), organisation_id=organisation_id,
                         action="invitation.bulk_created", target_type="organisation", target_id=organisation_id,
                         detail={"role": data["role"].value, "counts": counts, "challenge_id": data["challenge_id"],
                                 "team_id": data["team_id"]})
        db.session.commit()
        return {"items": report, "counts": counts}


@inv_blp.route("/<code>")
class InvitationByCode(MethodView):
    @inv_blp.response(200, InvitationPreviewSchema)
    def get(self, code: str) -> dict[str, Any]:
        """See where an invitation leads before accepting it (no sign-in needed; no personal data): the
        organisation, challenge and team, whether it is still valid, and what accepting will do"""
        return invitations.preview(db.session, code)


@inv_blp.route("/<code>/accept")
class AcceptInvitation(MethodView):
    @auth_required
    @inv_blp.response(200, InvitationAcceptedSchema)
    def post(self, code: str) -> Membership:
        """Accept an invitation: join its organisation, and its challenge and team when it names them;
        accepting again changes nothing"""
        user = current_user()
        try:
            joined, entered = invitations.accept(db.session, code, user)
            db.session.commit()
        except IntegrityError:  # the same person accepted twice at once; the other request joined them
            db.session.rollback()
            joined, entered = invitations.accept(db.session, code, user)
            db.session.commit()
        joined.challenge_id, joined.team_id = entered["challenge_id"], entered["team_id"]  # type: ignore[attr-defined]
        return joined


blueprints: list[Blueprint] = [org_inv_blp, inv_blp]
