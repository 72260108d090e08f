"""What a challenge's format decides, asked in one place: ``format_of(challenge)`` answers for the call sites.

A format says whom a participant's points count for, which boards fill, what the challenge's ``goal`` is a
goal of, whether teams exist and how people get into them, and what the report groups people by. Every other
module asks the format object instead of comparing ``challenge.format``; a test keeps it that way, so a new
format (or a variant of one) is one class here and one ``ChallengeFormat`` value.

- individual: each person for themself; the goal is each participant's own.
- team: people join teams (by code, or placed by organisers); points count for the person, their team and the
  team's organisation, if it has one; the goal is each team's.
- organisation: organisation against organisation (city versus city, company versus company); a participant's
  team is their organisation, and the challenge's teams only register the organisations taking part.
- collective: everyone towards one shared goal (which the challenge must then have).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from challenges.models import Challenge, ChallengeFormat, Enrolment, Team
from scoring.types import Scope, Subject

GoalScope = Literal["participant", "team", "organisation", "collective"]


class Format:
    """The individual format; the others override what differs."""

    kind: ClassVar[ChallengeFormat] = ChallengeFormat.INDIVIDUAL
    group_scope: ClassVar[Scope | None] = None
    """The board of the groups people compete in (besides their own line), if any."""
    goal_scope: ClassVar[GoalScope] = "participant"
    """What ``goal`` is a goal of: each participant's, each group's, or everyone's together."""
    has_teams: ClassVar[bool] = False
    """Teams may be created (teams proper, or the organisations taking part)."""
    team_codes: ClassVar[bool] = False
    """People are placed in teams: they join one by its code, organisers move them, participants may create
    teams (when the challenge allows)."""
    team_is_organisation: ClassVar[bool] = False
    """A team stands for an organisation: its members are that organisation's participants."""
    picks_organisation: ClassVar[bool] = False
    """Joining resolves (or takes) the organisation the participant competes for."""
    rival_scopes: ClassVar[tuple[Scope, ...]] = (Scope.USER,)
    """The boards on which a person is told they were overtaken."""
    group_attr: ClassVar[str | None] = None
    """The enrolment column that holds a participant's group (its line on the group board)."""

    def subject(self, enrolment: Enrolment) -> Subject:
        """Whom an entry counts for."""
        return Subject(user_id=enrolment.user_id)

    @property
    def boards(self) -> tuple[Scope, ...]:
        """The boards a participant's points fill."""
        return (Scope.USER,)

    @property
    def main_board(self) -> Scope:
        """The board that shows who is winning: the groups' where people compete in groups, else people's."""
        return self.group_scope or Scope.USER

    @property
    def goal_required(self) -> bool:
        return self.goal_scope == "collective"

    @property
    def team_goal_badges(self) -> bool:
        """Badges for a team reaching the goal can be earned (team boards exist)."""
        return Scope.TEAM in self.boards

    @property
    def report_groups_by_team(self) -> bool:
        """The report may group people by team (in organisation format teams only register organisations)."""
        return not self.team_is_organisation

    def team_line(self, team: Team) -> tuple[Scope, int] | None:
        """The board line a team's points live on."""
        return Scope.TEAM, team.id

    def team_member_filter(self, team: Team) -> Any:
        """Which enrolments are the team's members."""
        return Enrolment.team_id == team.id

    def group_of(self, enrolment: Enrolment | None) -> int | None:
        """The participant's line on the group board (None: no group, or no enrolment)."""
        return getattr(enrolment, self.group_attr) if enrolment is not None and self.group_attr else None

    def group_column(self) -> Any:
        return getattr(Enrolment, self.group_attr) if self.group_attr else None

    def rules(self) -> dict[str, Any]:
        """What apps and the dashboard need to know of the format, served with the challenge."""
        return {"boards": [s.value for s in self.boards], "main_board": self.main_board.value,
                "goal_scope": self.goal_scope, "goal_required": self.goal_required, "teams": self.has_teams,
                "team_codes": self.team_codes, "team_is_organisation": self.team_is_organisation}


class Individual(Format):
    pass


class TeamFormat(Format):
    kind = ChallengeFormat.TEAM
    group_scope = Scope.TEAM
    goal_scope: ClassVar[GoalScope] = "team"
    has_teams = True
    team_codes = True
    rival_scopes = (Scope.USER, Scope.TEAM)
    group_attr = "team_id"

    def subject(self, enrolment: Enrolment) -> Subject:
        return Subject(user_id=enrolment.user_id, team_id=enrolment.team_id,
                       organisation_id=enrolment.organisation_id)

    @property
    def boards(self) -> tuple[Scope, ...]:
        return Scope.USER, Scope.TEAM, Scope.ORGANISATION


class OrganisationFormat(Format):
    kind = ChallengeFormat.ORGANISATION
    group_scope = Scope.ORGANISATION
    goal_scope: ClassVar[GoalScope] = "organisation"
    has_teams = True
    team_is_organisation = True
    picks_organisation = True
    group_attr = "organisation_id"

    def subject(self, enrolment: Enrolment) -> Subject:
        return Subject(user_id=enrolment.user_id, organisation_id=enrolment.organisation_id)

    @property
    def boards(self) -> tuple[Scope, ...]:
        return Scope.USER, Scope.ORGANISATION

    def team_line(self, team: Team) -> tuple[Scope, int] | None:
        return None if team.organisation_id is None else (Scope.ORGANISATION, team.organisation_id)

    def team_member_filter(self, team: Team) -> Any:
        return Enrolment.organisation_id == team.organisation_id


class Collective(Format):
    kind = ChallengeFormat.COLLECTIVE
    goal_scope: ClassVar[GoalScope] = "collective"


FORMATS: dict[ChallengeFormat, Format] = {f.kind: f for f in (Individual(), TeamFormat(), OrganisationFormat(),
                                                               Collective())}
assert set(FORMATS) == set(ChallengeFormat), "every ChallengeFormat needs its class here"


def format_of(challenge: Challenge) -> Format:
    return FORMATS[challenge.format]
