"""The organisation in an organisations URL, checked against the caller's role, and the id-keyed pages of
its lists: shared by the organisation and invitation endpoints.

A non-member gets 404 (private organisations are not probed), a member without the needed role 403.
"""

from __future__ import annotations

from typing import Any

from service.auth import current_user, require_org_role
from service.db import db
from service.errors import Forbidden, NotFound
from service.models import Organisation, Role
from service.pagination import cursor_fields, keyset_page

STAFF = (Role.ADMIN, Role.ORGANISER)
ANY_ROLE = (Role.ADMIN, Role.ORGANISER, Role.MEMBER)


def organisation_for(organisation_id: int, roles: tuple[Role, ...] = ANY_ROLE) -> tuple[Organisation, Role]:
    """The organisation if the caller belongs to it (else 404) and holds one of ``roles`` (else 403)."""
    user = current_user()
    org = db.session.get(Organisation, organisation_id)
    if org is None:
        raise NotFound("No such organisation.", code="organisation-not-found")
    role = require_org_role(user, organisation_id, ANY_ROLE, hide=True)
    if role not in roles:
        wanted = " or ".join(r.value for r in roles)
        raise Forbidden(f"This needs the {wanted} role in this organisation.", code="role-required")
    org.my_role = role  # type: ignore[attr-defined]  # read by OrganisationSchema
    return org, role


def id_page(rows: list[Any], limit: int) -> dict[str, Any]:
    """Keyset page on ``id``: ``rows`` holds up to limit + 1 rows in cursor order."""
    items, next_cursor = keyset_page(rows, limit, lambda row: {"id": row.id})
    return {"items": items, "next": next_cursor}


def after_id(cursor: str | None) -> int | None:
    after = cursor_fields(cursor, id=int)
    return after["id"] if after else None
