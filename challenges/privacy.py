"""Who sees whom: the one visibility policy every read path of a challenge asks (boards of every scope and period,
around-me, rosters, teams, progress, the organiser report and its CSV, the review queue, the dashboard).

An @work or @school campaign puts the employer (or school) next to people's health data (GDPR art. 9; employee
consent is rarely free, EDPB guidelines 05/2020), so the rules are decided here and nowhere else:

- Individual boards (``Challenge.board_visibility``, default by setting): ``public`` (anyone; signed-out readers
  see aliases only), ``participants`` (the challenge's enrolled participants), ``none`` (teams and organisations
  only). Defaults: @work and @school ``participants``, every other setting ``public``.
- How a person appears to others: their self-chosen alias, else first name and initial ("Anna V."); the full
  display name only when they opt in (``show_full_name``); hidden people (``hide_from_leaderboards``) appear as
  "Participant #..." without an id and still count for their team. Signed out: the alias or the pseudonym only.
- Organisers of a workplace or school challenge never see a person's figures: no individual board, no points in
  rosters, the review queue without names. Team and organisation figures (boards of every period, the report,
  its CSV) only for groups of at least ``min_group_size`` people, with complementary suppression (below), so no
  hidden group can be recovered by subtracting what is shown from a total.
- Boards are read signed out only where individual boards are ``public``.

Complementary suppression (``suppress_groups``): a group of 1..k-1 people is hidden. A total minus the shown
groups gives the sum of the hidden ones, so the hidden groups under any total (everyone; each organisation, for the
teams in it) must be none, or at least two holding k people together; otherwise the smallest shown group under it
is hidden too, and an organisation is hidden when the teams in it cannot protect each other (a hidden organisation
hides its teams). Complements are chosen by size and id only, never by points, so the same groups are hidden in
every period and on every board: comparing two answers reveals nothing either.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import func, literal, select, union
from sqlalchemy.orm import Session

from challenges.access import is_enrolled, is_organiser
from challenges.formats import format_of
from challenges.models import BoardVisibility, Challenge, Enrolment, Setting, Team
from scoring.leaderboards import alias_for
from scoring.models import PointsEntry
from scoring.types import BoardRow, Scope
from service.config import GROUP_SIZE_FLOOR
from service.errors import Forbidden, Unauthenticated, Unprocessable
from service.models import User

MIN_GROUP_SIZE = 10
"""Smallest team or organisation whose figures organisers of a workplace or school challenge see (wellbeing
vendors use 10; REPORT_MIN_GROUP_SIZE may raise it, never below service.config.GROUP_SIZE_FLOOR)."""

EMPLOYER_SETTINGS = frozenset({Setting.WORK, Setting.SCHOOL})
"""Where the organiser is the participants' employer or school: organisers see groups, never people."""

DEFAULT_BOARDS = {setting: (BoardVisibility.PARTICIPANTS if setting in EMPLOYER_SETTINGS else BoardVisibility.PUBLIC)
                  for setting in Setting}

OPENNESS = {BoardVisibility.NONE: 0, BoardVisibility.PARTICIPANTS: 1, BoardVisibility.PUBLIC: 2}


def configured_floor() -> int:
    """The deployment's minimum group size (REPORT_MIN_GROUP_SIZE, refused below the floor at start-up)."""
    configured = int(current_app.config.get("REPORT_MIN_GROUP_SIZE", MIN_GROUP_SIZE)) if has_app_context() \
        else MIN_GROUP_SIZE
    return max(GROUP_SIZE_FLOOR, configured)


def group_floor(requested: int | None, configured: int | None = None) -> int:
    """The minimum group size of one answer: the deployment's, or a larger one asked for. Asking for less is
    refused rather than quietly raised, so nobody reads figures believing groups that small were shown."""
    floor = configured if configured is not None else configured_floor()
    if requested is not None and requested < floor:
        raise Unprocessable(f"This deployment shows groups of at least {floor} people; ask for "
                            f"min_group_size {floor} or more (a request may raise the minimum, never lower it).",
                            code="min-group-size-below-floor", floor=floor)
    return max(floor, requested or 0)


def board_visibility(challenge: Challenge) -> BoardVisibility:
    return challenge.board_visibility or DEFAULT_BOARDS[challenge.setting]


@dataclass(frozen=True)
class Viewer:
    """Who is asking, as the policy needs it: signed in or not, an organiser of the challenge, a participant."""

    user: User | None
    organiser: bool
    participant: bool

    @property
    def signed_in(self) -> bool:
        return self.user is not None


def viewer_of(session: Session, challenge: Challenge, user: User | None) -> Viewer:
    return Viewer(user=user, organiser=is_organiser(session, user, challenge.organisation_id),
                  participant=is_enrolled(session, user, challenge, active_only=True))


def employer_view(challenge: Challenge, viewer: Viewer) -> bool:
    """An organiser of a workplace or school challenge: sees groups at or above the minimum, never a person."""
    return viewer.organiser and challenge.setting in EMPLOYER_SETTINGS


def require_boards(challenge: Challenge, viewer: Viewer) -> None:
    """Any board (people, teams, organisations) signed out only where individual boards are public."""
    if not viewer.signed_in and board_visibility(challenge) is not BoardVisibility.PUBLIC:
        raise Unauthenticated("Sign in: the boards of this challenge are for its participants.",
                              code="boards-for-participants")


def require_people(challenge: Challenge, viewer: Viewer) -> None:
    """May this viewer see other people's figures (the individual board, points in a roster)?"""
    require_boards(challenge, viewer)
    if employer_view(challenge, viewer):
        raise Forbidden("Organisers of a workplace or school challenge see teams and organisations of at least the "
                        "minimum group size, never a person's figures.", code="individual-figures-hidden")
    policy = board_visibility(challenge)
    if policy is BoardVisibility.NONE:
        raise Forbidden("This challenge has no individual boards: it ranks teams and organisations only.",
                        code="individual-boards-off")
    if policy is BoardVisibility.PARTICIPANTS and not (viewer.participant or viewer.organiser):
        raise Forbidden("Only participants of this challenge see its individual board.",
                        code="individual-board-for-participants")


def sees_people(challenge: Challenge, viewer: Viewer) -> bool:
    try:
        require_people(challenge, viewer)
    except (Forbidden, Unauthenticated):
        return False
    return True


def short_name(display_name: str) -> str:
    """First name and the initial of the last: "Anna Virtanen" -> "Anna V."; a single name stays as it is."""
    parts = display_name.split()
    if len(parts) < 2:
        return display_name
    return f"{parts[0]} {parts[-1][0]}."


@dataclass(frozen=True)
class Shown:
    """A person as one viewer sees them: ``user_id`` None when the viewer may not link the row to an account."""

    user_id: int | None
    name: str
    is_alias: bool


def shown_person(person: Any, viewer: Viewer) -> Shown:
    """``person`` has id, display_name, alias, show_full_name and hide_from_leaderboards (a User or a row)."""
    me = viewer.user is not None and viewer.user.id == person.id
    if person.hide_from_leaderboards:
        return Shown(person.id if me else None, alias_for(person.id), True)
    if not viewer.signed_in:
        return Shown(None, person.alias, False) if person.alias else Shown(None, alias_for(person.id), True)
    if person.show_full_name:
        return Shown(person.id, person.display_name, False)
    return Shown(person.id, person.alias or short_name(person.display_name), False)


PERSON_COLUMNS = (User.id, User.display_name, User.alias, User.show_full_name, User.hide_from_leaderboards)


def people(session: Session, ids: Iterable[int]) -> dict[int, Any]:
    """The rows ``shown_person`` needs, of the given people who are not deleted."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    return {r.id: r for r in session.execute(select(*PERSON_COLUMNS).where(User.id.in_(wanted),
                                                                            User.deleted_at.is_(None)))}


@dataclass(frozen=True)
class GroupSizes:
    """People per team and per organisation of a challenge (members now, and everyone who ever scored for the
    group), with the organisation each team stands under. ``None`` keys are the people without a team / an
    organisation, whose sum anyone can compute as the total minus the groups."""

    teams: dict[Any, int]
    team_parent: dict[Any, Any]
    orgs: dict[Any, int]


def group_sizes(session: Session, challenge: Challenge) -> GroupSizes:
    by_team = _distinct_people(session, challenge, Enrolment.team_id, PointsEntry.team_id)
    by_org = _distinct_people(session, challenge, Enrolment.organisation_id, PointsEntry.organisation_id)
    parents = dict(session.execute(select(Team.id, Team.organisation_id)
                                   .where(Team.challenge_id == challenge.id)).all())
    teams = {t: 0 for t in parents} | by_team if format_of(challenge).report_groups_by_team else {}
    return GroupSizes(teams=teams, team_parent={t: parents.get(t) for t in teams}, orgs=by_org)


ERASED = -1
"""The stand-in for people erased from a group (their ledger lines have no user)."""


def _people(challenge: Challenge, enrolled: Any, scored: Any) -> Any:
    """(group, person) once each: active members, and everyone who ever scored for the group. Erased people's
    lines (no user) count as one person, as in the report: a group whose only scorers left and were erased
    still holds someone's figures."""
    return union(
        select(enrolled.label("g"), Enrolment.user_id.label("u")).where(
            Enrolment.challenge_id == challenge.id, Enrolment.left_at.is_(None)),
        select(scored.label("g"), func.coalesce(PointsEntry.user_id, ERASED).label("u")).where(
            PointsEntry.contest_id == challenge.id)).subquery()


def _distinct_people(session: Session, challenge: Challenge, enrolled: Any, scored: Any) -> dict[Any, int]:
    pairs = _people(challenge, enrolled, scored)
    return {g: int(n) for g, n in session.execute(select(pairs.c.g, func.count()).group_by(pairs.c.g)).all()}


def _protect(cells: Mapping[Any, int], hidden: set[Any], k: int) -> bool:
    """Hide the smallest shown cells under one total until its hidden cells are none, or two or more holding
    ``k`` people together. False when that cannot be reached (every cell with people is hidden)."""
    def hidden_cells() -> list[Any]:
        return [c for c, n in cells.items() if n > 0 and c in hidden]

    shown = sorted((c for c, n in cells.items() if n > 0 and c not in hidden), key=lambda c: (cells[c], str(c)))
    while (h := hidden_cells()) and (len(h) == 1 or sum(cells[c] for c in h) < k):
        if not shown:
            return False
        hidden.add(shown.pop(0))
    return True


def suppress_groups(sizes: GroupSizes, k: int) -> tuple[set[Any], set[Any]]:
    """The teams and organisations hidden from organisers at minimum size ``k`` (see the module docstring)."""
    hidden_teams = {t for t, n in sizes.teams.items() if 0 < n < k}
    hidden_orgs = {o for o, n in sizes.orgs.items() if 0 < n < k}
    while True:
        before = (len(hidden_teams), len(hidden_orgs))
        _protect(sizes.teams, hidden_teams, k)
        _protect(sizes.orgs, hidden_orgs, k)
        for org in {*sizes.orgs, *sizes.team_parent.values()}:
            inside = {t: n for t, n in sizes.teams.items() if sizes.team_parent.get(t) == org}
            if org in hidden_orgs:
                hidden_teams.update(inside)
            elif inside and not _protect(inside, hidden_teams, k):
                hidden_orgs.add(org)
        if (len(hidden_teams), len(hidden_orgs)) == before:
            return hidden_teams, hidden_orgs


def hidden_subjects(session: Session, challenge: Challenge, scope: Scope, k: int) -> set[Any]:
    """The lines of a team or organisation board that organisers of a workplace challenge may not see."""
    teams, orgs = suppress_groups(group_sizes(session, challenge), k)
    return teams if scope is Scope.TEAM else orgs


def everyone_small(session: Session, challenge: Challenge, k: int) -> bool:
    """Fewer than ``k`` people in the whole challenge: even its collective total is a small group's."""
    everyone = _people(challenge, literal(0), literal(0))
    return (session.scalar(select(func.count()).select_from(everyone)) or 0) < k


def rerank(rows: list[BoardRow]) -> list[BoardRow]:
    """Competition ranks among the rows shown (a gap would place a hidden group between two shown ones)."""
    out: list[BoardRow] = []
    for i, row in enumerate(rows):
        rank = out[-1].rank if out and out[-1].points == row.points else i + 1
        out.append(BoardRow(rank, row.subject_id, row.points, row.label, row.is_alias))
    return out


def loosening(challenge: Challenge, new: BoardVisibility | None) -> bool:
    """Would ``new`` show individual boards to more people than the participants were told when they joined?"""
    return OPENNESS[new or DEFAULT_BOARDS[challenge.setting]] > OPENNESS[board_visibility(challenge)]
