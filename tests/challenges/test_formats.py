"""The format registry: one place decides what a format means, and the API tells clients what it decided."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from challenges.formats import FORMATS, format_of
from challenges.models import ChallengeFormat, Enrolment, Team
from scoring.types import Scope
from tests.challenges.conftest import Cast
from tests.challenges.factories import make_challenge

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("service", "scoring", "challenges", "notifications")
REGISTRY = ROOT / "challenges" / "formats.py"


def _format_comparisons(path: Path) -> list[str]:
    """Comparisons that test a format (``x.format == ...``, ``... in (ChallengeFormat.A, ...)``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Compare):
            continue
        for part in ast.walk(node):
            is_format_attr = isinstance(part, ast.Attribute) and part.attr == "format"
            is_format_value = (isinstance(part, ast.Attribute) and isinstance(part.value, ast.Name)
                               and part.value.id == "ChallengeFormat")
            if is_format_attr or is_format_value:
                found.append(f"{path.name}:{node.lineno}")
                break
    return found


def test_no_module_compares_formats_outside_the_registry() -> None:
    offenders = [f"{path.parent.relative_to(ROOT)}/{hit}" for package in PACKAGES
                 for path in sorted((ROOT / package).rglob("*.py")) if path != REGISTRY
                 for hit in _format_comparisons(path)]
    assert offenders == [], f"ask challenges.formats.format_of(challenge) instead: {offenders}"


def test_the_check_finds_a_format_comparison(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f(c):\n    return c.format == ChallengeFormat.TEAM or c.kind in (ChallengeFormat.A,)\n")
    assert _format_comparisons(sample) == ["sample.py:2", "sample.py:2"]


def test_the_dashboard_reads_format_rules_from_the_api() -> None:
    script = (ROOT / "service" / "static" / "dashboard" / "app.js").read_text()
    for restated in ('.format === "', '.format !== "', '.format == "', '.format != "'):
        assert restated not in script


def test_every_format_has_a_class() -> None:
    assert set(FORMATS) == set(ChallengeFormat)
    assert all(FORMATS[kind].kind is kind for kind in ChallengeFormat)


@pytest.mark.parametrize("kind", list(ChallengeFormat))
def test_a_participant_s_points_fill_exactly_the_boards_the_format_names(kind: ChallengeFormat) -> None:
    fmt = FORMATS[kind]
    subject = fmt.subject(Enrolment(user_id=7, team_id=3, organisation_id=5))
    filled = {Scope.USER} | ({Scope.TEAM} if subject.team_id else set()) | (
        {Scope.ORGANISATION} if subject.organisation_id else set())
    assert filled == set(fmt.boards)
    assert fmt.main_board in fmt.boards
    assert set(fmt.rival_scopes) <= set(fmt.boards)
    if fmt.group_scope is not None:
        assert fmt.group_of(Enrolment(user_id=7, team_id=3, organisation_id=5)) == (
            3 if fmt.group_scope is Scope.TEAM else 5)


@pytest.mark.parametrize(("kind", "line"), [
    (ChallengeFormat.TEAM, (Scope.TEAM, 11)), (ChallengeFormat.ORGANISATION, (Scope.ORGANISATION, 5)),
])
def test_a_team_s_points_live_on_its_own_line_or_its_organisation_s(kind: ChallengeFormat,
                                                                     line: tuple[Scope, int]) -> None:
    assert FORMATS[kind].team_line(Team(id=11, organisation_id=5)) == line
    assert FORMATS[ChallengeFormat.ORGANISATION].team_line(Team(id=11, organisation_id=None)) is None


@pytest.mark.parametrize(("kind", "main", "teams", "codes", "goal"), [
    (ChallengeFormat.INDIVIDUAL, "user", False, False, "participant"),
    (ChallengeFormat.TEAM, "team", True, True, "team"),
    (ChallengeFormat.ORGANISATION, "organisation", True, False, "organisation"),
    (ChallengeFormat.COLLECTIVE, "user", False, False, "collective"),
])
def test_the_challenge_tells_clients_what_its_format_decides(app: Flask, client: FlaskClient, session: Any,
                                                             cast: Cast, kind: ChallengeFormat, main: str,
                                                             teams: bool, codes: bool, goal: str) -> None:
    challenge = make_challenge(session, cast.org, format=kind, goal=1000)
    session.commit()
    resp = client.get(f"/api/v1/challenges/{challenge.id}")
    assert resp.status_code == 200, resp.json
    rules = resp.json["format_rules"]
    assert (rules["main_board"], rules["teams"], rules["team_codes"], rules["goal_scope"]) == (main, teams, codes,
                                                                                               goal)
    assert rules["goal_required"] is (kind is ChallengeFormat.COLLECTIVE)
    assert rules == format_of(challenge).rules()
