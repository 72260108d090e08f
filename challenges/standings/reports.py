"""Organiser reports: aggregates per team, organisation, day, activity type and check-in location that never
expose a person.

The activity types say what people did (a city's mobility office wants the cycled kilometres apart from
the walked ones); the locations say which spots are used (``total`` there counts check-ins, not points).

Activity is health data (GDPR Art. 9) and employers should see aggregates only (EDPB 05/2020), so:
- a team or organisation row is suppressed when fewer than ``min_group_size`` people are in it (its members
  and everyone who scored for it), with complementary suppression across teams and the organisations they
  stand under: the same rule, and so the same hidden groups, as the boards organisers see
  (``challenges.privacy.suppress_groups``);
- a day row when 1..min-1 people were active that day; days, activity types and locations get complementary
  suppression too: the overall totals minus the shown rows give the sum of the hidden rows, so hidden rows must
  never be a single row nor hold fewer than ``min_group_size`` people together: the smallest shown rows of that
  dimension (by size, never by points) are hidden as well until they do;
- when the whole challenge has fewer than ``min_group_size`` participants, everything is suppressed.
The default minimum is 10 (challenges.privacy); ``REPORT_MIN_GROUP_SIZE`` raises it, and a request may
only raise it further.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from challenges.formats import format_of
from challenges.models import Challenge, CheckIn, Enrolment, Location, Team
from challenges.privacy import MIN_GROUP_SIZE, GroupSizes, suppress_groups
from scoring.catalogue import ACTIVITY_TYPES, CHECKIN
from scoring.models import PointsEntry
from service.models import Organisation


@dataclass
class _Group:
    key: Any
    name: str
    members: set[int] = field(default_factory=set)
    points: dict[int | None, int] = field(default_factory=lambda: defaultdict(int))

    def size(self) -> int:
        """Lines of erased people have no user (None): a group of enrolments counts their tombstones already,
        a group of lines alone (a day, a type) counts them as one person, never more than there were."""
        people = self.members | set(self.points)
        if self.members:
            people.discard(None)
        return len(people)

    def active(self) -> int:
        return sum(1 for p in self.points.values() if p > 0)

    def total(self) -> int:
        return sum(self.points.values())


class _Groups(dict[Any, _Group]):
    """Groups by key, each made on first use from ``label(key)`` -> (row key, name)."""

    def __init__(self, label: Callable[[Any], tuple[Any, str]]) -> None:
        super().__init__()
        self._label = label

    def __missing__(self, key: Any) -> _Group:
        group = self[key] = _Group(*self._label(key))
        return group

    def listed(self, keys: Iterable[Any]) -> _Groups:
        """Make the groups of ``keys`` now, so they are listed even with nobody in them."""
        for key in keys:
            if key not in self:
                self.__missing__(key)
        return self


def _row(group: _Group, *, day_row: bool, k: int) -> dict[str, Any]:
    small = (0 < group.active() < k) if day_row else 0 < group.size() < k
    return {"key": group.key, "name": group.name, "participants": group.size(),
            "active_participants": group.active(), "total": group.total(), "suppressed": small}


def _hide(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "participants": None, "active_participants": None, "total": None, "suppressed": True}


def _suppress(rows: list[dict[str, Any]], k: int, size_field: str = "participants") -> list[dict[str, Any]]:
    """Blank small rows, then complementary ones: while the hidden rows are a single row, or together hold
    fewer than ``k`` people, the totals minus the shown rows would reveal them, so hide the next smallest."""
    hidden = [r for r in rows if r["suppressed"]]
    shown = sorted((r for r in rows if not r["suppressed"]), key=lambda r: (r[size_field], str(r["key"])))
    while hidden and shown and (len(hidden) == 1 or sum(r[size_field] for r in hidden) < k):
        nxt = shown.pop(0)
        nxt["suppressed"] = True
        hidden.append(nxt)
    return [_hide(r) if r["suppressed"] else r for r in rows]


def report(session: Session, challenge: Challenge, min_group_size: int = MIN_GROUP_SIZE) -> dict[str, Any]:
    k = max(2, min_group_size)
    enrolments = session.execute(select(Enrolment.user_id, Enrolment.team_id, Enrolment.organisation_id)
                                 .where(Enrolment.challenge_id == challenge.id, Enrolment.left_at.is_(None))).all()
    sums = session.execute(
        select(PointsEntry.user_id, PointsEntry.team_id, PointsEntry.organisation_id, PointsEntry.local_day,
               PointsEntry.type_code, func.sum(PointsEntry.points))
        .where(PointsEntry.contest_id == challenge.id)
        .group_by(PointsEntry.user_id, PointsEntry.team_id, PointsEntry.organisation_id, PointsEntry.local_day,
                  PointsEntry.type_code)).all()
    visits = session.execute(select(CheckIn.location_id, CheckIn.user_id, func.count(CheckIn.id))
                             .where(CheckIn.challenge_id == challenge.id)
                             .group_by(CheckIn.location_id, CheckIn.user_id)).all()
    place_names = dict(session.execute(select(Location.id, Location.name)
                                       .where(Location.challenge_id == challenge.id).order_by(Location.id)).all())
    team_rows = session.execute(select(Team.id, Team.name, Team.organisation_id)
                                .where(Team.challenge_id == challenge.id)).all()
    team_names = {t.id: t.name for t in team_rows}
    org_ids = {e.organisation_id for e in enrolments} | {s[2] for s in sums}
    org_names = dict(session.execute(select(Organisation.id, Organisation.name)
                                     .where(Organisation.id.in_([o for o in org_ids if o is not None]))).all())
    everyone = _Group("all", "all participants")
    teams = _Groups(lambda t: (t, team_names.get(t, "no team") if t else "no team")).listed(team_names)
    orgs = _Groups(lambda o: (o, org_names.get(o, "no organisation") if o else "no organisation"))
    days = _Groups(lambda d: (d.isoformat(), d.isoformat()))
    kinds = _Groups(lambda t: (t or "other", _type_name(t)))
    places = _Groups(lambda loc: (loc, place_names.get(loc, f"location {loc}"))).listed(place_names)

    # in organisation-versus-organisation challenges the teams only register the organisations taking part
    has_teams = format_of(challenge).report_groups_by_team and (
        bool(teams) or any(e.team_id is not None for e in enrolments) or any(s[1] for s in sums))
    has_orgs = any(o is not None for o in org_ids)
    for user_id, team_id, org_id in enrolments:
        everyone.members.add(user_id)
        if has_teams:
            teams[team_id].members.add(user_id)
        if has_orgs:
            orgs[org_id].members.add(user_id)
    for user_id, team_id, org_id, day, type_code, pts in sums:
        pts = int(pts or 0)
        kinds[type_code].points[user_id] += pts
        everyone.points[user_id] += pts
        if has_teams:
            teams[team_id].points[user_id] += pts
        if has_orgs:
            orgs[org_id].points[user_id] += pts
        days[day].points[user_id] += pts
    overall = _row(everyone, day_row=False, k=k)
    listed_teams = teams if has_teams else {}
    parents = {t.id: t.organisation_id for t in team_rows}
    hidden_teams, hidden_orgs = suppress_groups(GroupSizes(
        teams={t: g.size() for t, g in listed_teams.items()}, team_parent={t: parents.get(t) for t in listed_teams},
        orgs={o: g.size() for o, g in orgs.items()}), k)
    by_team = [_hide(r) if r["key"] in hidden_teams else {**r, "suppressed": False}
               for r in (_row(g, day_row=False, k=k) for g in listed_teams.values())]
    by_org = [_hide(r) if r["key"] in hidden_orgs else {**r, "suppressed": False}
              for r in (_row(g, day_row=False, k=k) for g in orgs.values())]
    by_day = _suppress([_row(days[d], day_row=True, k=k) for d in sorted(days)], k, "active_participants")
    by_type = _suppress([_row(kinds[t], day_row=False, k=k) for t in sorted(kinds, key=lambda t: t or "")], k)
    for location_id, user_id, count in visits:
        places[location_id].points[user_id] += count
    by_location = _suppress([_row(g, day_row=False, k=k) for g in places.values()], k)
    sections = {"by_team": by_team, "by_organisation": by_org, "by_day": by_day, "by_type": by_type,
                "by_location": by_location}
    if overall["suppressed"]:
        overall = _hide(overall)
        sections = {name: [_hide(r) for r in rows] for name, rows in sections.items()}
    return {"challenge_id": challenge.id, "metric": challenge.metric.value, "min_group_size": k,
            "totals": overall, **sections}


def _type_name(code: str | None) -> str:
    if code == CHECKIN.code:
        return CHECKIN.name
    known = ACTIVITY_TYPES.get(code or "")
    return known.name if known else (code or "other")


CSV_COLUMNS = ("section", "key", "name", "participants", "active_participants", "total", "suppressed")


def as_csv(report_: dict[str, Any]) -> str:
    """The report as one CSV table for spreadsheets: a row per group, ``section`` saying which list it is from.

    Made from the report itself, after suppression, so the CSV can never show more than the JSON does.
    Text fields starting with ``= + - @`` get a leading apostrophe: a team named ``=HYPERLINK(...)`` must
    not become a formula in the organiser's spreadsheet.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    sections = [("all", [report_["totals"]]), ("team", report_["by_team"]),
                ("organisation", report_["by_organisation"]), ("day", report_["by_day"]),
                ("type", report_["by_type"]), ("location", report_["by_location"])]
    for section, rows in sections:
        for row in rows:
            writer.writerow([section, _cell(row["key"]), _cell(row["name"]), _cell(row["participants"]),
                             _cell(row["active_participants"]), _cell(row["total"]),
                             "true" if row["suppressed"] else "false"])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    return f"'{text}" if isinstance(value, str) and text[:1] in ("=", "+", "-", "@") else text
