"""Badges an organiser defines for one contest: their criteria checked up front, their history kept honest.

The built-in catalogue (``badge_catalogue``) applies to every contest; an organiser adds their own ("visit all
12 park spots", "100 km in May") as rows limited to one contest. Criteria are checked here against the kinds
``badges.CHECKS`` knows, with their parameters and ranges, so a typo becomes a clear 422 instead of a badge no
one can ever earn. Once anyone holds a badge, what earns it is fixed (name, description and image may still
change): changing it would rewrite the meaning of awards already given, and deleting it would take them away.
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from scoring.badges import CHECKS, applies_to
from scoring.errors import BadgeAwarded, BadgeNotFound, InvalidCriteria
from scoring.models import BadgeAward, BadgeDefinition
from service.accounts import slugify

_INT = {"strict": True}


class _Criteria(Schema):
    class Meta:
        unknown = RAISE

    kind = fields.String(required=True)


class _Total(_Criteria):
    points = fields.Integer(required=True, validate=validate.Range(1, 1_000_000_000), **_INT)


class _Streak(_Criteria):
    length = fields.Integer(required=True, validate=validate.Range(2, 366), **_INT)
    threshold = fields.Integer(validate=validate.Range(1, 1_000_000), **_INT)
    unit = fields.String(validate=validate.OneOf(["day", "week"]))


class _Checkins(_Criteria):
    count = fields.Integer(required=True, validate=validate.Range(1, 1000), **_INT)


class _TopN(_Criteria):
    n = fields.Integer(required=True, validate=validate.Range(1, 1000), **_INT)


class _Collective(_Criteria):
    goal = fields.Integer(validate=validate.Range(1, 10**12), **_INT)
    scope = fields.String(validate=validate.OneOf(["contest", "team"]))


class _WhoWeeks(_Criteria):
    weeks = fields.Integer(required=True, validate=validate.Range(1, 53), **_INT)
    weekly_points = fields.Integer(validate=validate.Range(1, 1_000_000), **_INT)


SCHEMAS: dict[str, type[_Criteria]] = {
    "total_at_least": _Total, "streak": _Streak, "first_activity": _Criteria, "checkin_locations": _Checkins,
    "top_n_finish": _TopN, "collective_goal": _Collective, "who_weeks": _WhoWeeks,
}
assert set(SCHEMAS) == set(CHECKS), "every badge kind needs its criteria schema"


def checked_criteria(criteria: Any, *, contest_goal: float | None = None, has_teams: bool = True) -> dict[str, Any]:
    """The criteria as stored, or InvalidCriteria naming what is wrong (field by field)."""
    if not isinstance(criteria, dict):
        raise InvalidCriteria("criteria must be an object with a kind.", errors={"criteria": ["Not an object."]})
    kind = criteria.get("kind")
    schema = SCHEMAS.get(kind) if isinstance(kind, str) else None
    if schema is None:
        raise InvalidCriteria(f"Unknown badge kind {kind!r}; use one of: {', '.join(sorted(SCHEMAS))}.",
                              errors={"criteria": {"kind": [f"Must be one of: {', '.join(sorted(SCHEMAS))}."]}})
    try:
        data: dict[str, Any] = schema().load(criteria)
    except ValidationError as exc:
        said = "; ".join(f"{name}: {' '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
                         for name, msgs in exc.normalized_messages().items())
        raise InvalidCriteria(f"The criteria of a {kind} badge are not valid ({said}).",
                              errors={"criteria": exc.normalized_messages()}) from exc
    if kind == "collective_goal":
        if data.get("goal") is None and contest_goal is None:
            raise InvalidCriteria("This challenge has no goal: give the badge its own goal.",
                                  errors={"criteria": {"goal": ["Required when the challenge has no goal."]}})
        if data.get("scope") == "team" and not has_teams:
            raise InvalidCriteria("This challenge has no teams, so a team goal can never be reached.",
                                  errors={"criteria": {"scope": ["Use contest: this challenge has no teams."]}})
    return data


def _code_for(session: Session, contest_id: int, name: str) -> str:
    """Codes are global (they name the Achievement's URL): the contest id keeps organisers' codes apart."""
    base = f"c{contest_id}-{slugify(name)[:40].strip('-')}"
    taken = set(session.scalars(select(BadgeDefinition.code).where(
        or_(BadgeDefinition.code == base, BadgeDefinition.code.like(f"{base}-%")))))
    code, n = base, 1
    while code in taken:
        n += 1
        code = f"{base}-{n}"
    return code


def for_contest(session: Session, contest_id: int) -> list[BadgeDefinition]:
    """Every badge that can be earned in the contest: the catalogue's, then the contest's own, oldest first."""
    return list(session.scalars(select(BadgeDefinition).where(applies_to(contest_id))
                                .order_by(BadgeDefinition.contest_id.is_not(None), BadgeDefinition.id)))


def own(session: Session, contest_id: int, code: str) -> BadgeDefinition:
    badge = session.scalar(select(BadgeDefinition).where(BadgeDefinition.code == code,
                                                         BadgeDefinition.contest_id == contest_id))
    if badge is None:
        raise BadgeNotFound(f"This challenge has no badge of its own with code {code!r} (the built-in badges "
                            "apply to every challenge and cannot be changed here).")
    return badge


def awarded(session: Session, badge: BadgeDefinition) -> int:
    return int(session.scalar(select(func.count()).select_from(BadgeAward).where(
        BadgeAward.badge_id == badge.id)) or 0)


def define(session: Session, contest_id: int, *, name: str, criteria: dict[str, Any], description: str = "",
           image_url: str | None = None) -> BadgeDefinition:
    badge = BadgeDefinition(code=_code_for(session, contest_id, name), name=name, description=description,
                            criteria=criteria, image_url=image_url, contest_id=contest_id)
    session.add(badge)
    session.flush()
    return badge


def change(session: Session, badge: BadgeDefinition, changes: dict[str, Any]) -> BadgeDefinition:
    """Name, description and image always; criteria only while no one holds the badge."""
    if "criteria" in changes and changes["criteria"] != badge.criteria and awarded(session, badge):
        raise BadgeAwarded("People already hold this badge, so what earns it is fixed; change its name, "
                           "description or image, or define a new badge.")
    for name in ("name", "description", "image_url", "criteria"):
        if name in changes:
            setattr(badge, name, changes[name])
    session.flush()
    return badge


def remove(session: Session, badge: BadgeDefinition) -> None:
    if awarded(session, badge):
        raise BadgeAwarded("People already hold this badge; deleting it would take it away from them.")
    session.delete(badge)
    session.flush()
