from datetime import UTC, datetime

from scoring import leaderboards, ledger
from scoring.types import ActivityFacts, Metric, Period, Scope, ScoringRules, Subject
from tests.factories import make_user


def test_scoring_twice_stores_once_and_board_ranks(session):
    a, b = make_user(session), make_user(session)
    rules = ScoringRules(7, Metric.ACTIVE_MINUTES, "Europe/Helsinki")
    at = datetime(2026, 3, 3, 10, tzinfo=UTC)
    r1 = ledger.score(session, rules, Subject(a.id), "activity:1", ActivityFacts("walking_brisk", at, 1800))
    r2 = ledger.score(session, rules, Subject(a.id), "activity:1", ActivityFacts("walking_brisk", at, 1800))
    ledger.score(session, rules, Subject(b.id), "activity:2", ActivityFacts("walking_brisk", at, 1800))
    session.commit()
    assert (r1.created, r1.points, r2.created, r2.points) == (True, 30, False, 30)
    page = leaderboards.board(session, 7, Scope.USER, Period.ALL, tz="Europe/Helsinki")
    assert [(r.rank, r.subject_id, r.points) for r in page.rows] == [(1, a.id, 30), (1, b.id, 30)]
    assert ledger.reverse(session, rules, "activity:1") == 30
    session.commit()
    rows = leaderboards.around(session, 7, Scope.USER, Period.ALL, a.id, 2, tz="Europe/Helsinki")
    assert [(r.rank, r.subject_id, r.points) for r in rows] == [(1, b.id, 30), (2, a.id, 0)]
