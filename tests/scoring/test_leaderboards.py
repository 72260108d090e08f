"""Leaderboards on both back ends: competition ranks, stable tie order, paging, around-me, aliases."""

from __future__ import annotations

from typing import Any

from scoring import leaderboards, ledger
from scoring.types import Period, Scope, Subject
from service.models import User
from tests.factories import quick_user
from tests.scoring.factories import facts, rules

TZ = "Europe/Helsinki"


def seed(session: Any, minutes: list[int]) -> list[int]:
    """One user per entry of ``minutes`` (in creation order, so ids ascend); returns the user ids."""
    ids = []
    for i, m in enumerate(minutes):
        user = quick_user(session)
        ids.append(user.id)
        ledger.score(session, rules(), Subject(user.id, team_id=100 + i % 2), f"activity:{i}",
                     facts("walking_brisk", m))
    session.commit()
    return ids


def triples(rows: list[Any]) -> list[tuple[int, int, int]]:
    return [(r.rank, r.subject_id, r.points) for r in rows]


def test_ties_share_a_rank_and_are_ordered_by_subject_id(session: Any, backend: str) -> None:
    a, b, c, d, e = seed(session, [30, 50, 50, 10, 50])
    page = leaderboards.board(session, 1, Scope.USER, Period.ALL, tz=TZ, limit=10)
    assert triples(page.rows) == [(1, b, 50), (1, c, 50), (1, e, 50), (4, a, 30), (5, d, 10)]
    assert page.next_cursor is None
    team = leaderboards.board(session, 1, Scope.TEAM, Period.ALL, tz=TZ)
    assert triples(team.rows) == [(1, 100, 30 + 50 + 50), (2, 101, 60)]


def test_pages_continue_ranks_across_a_tie_at_the_page_edge(session: Any, backend: str) -> None:
    ids = seed(session, [40, 30, 30, 30, 20, 20, 10])
    first = leaderboards.board(session, 1, Scope.USER, Period.ALL, tz=TZ, limit=2)
    second = leaderboards.board(session, 1, Scope.USER, Period.ALL, tz=TZ, limit=2, cursor=first.next_cursor)
    third = leaderboards.board(session, 1, Scope.USER, Period.ALL, tz=TZ, limit=3, cursor=second.next_cursor)
    assert triples(first.rows) == [(1, ids[0], 40), (2, ids[1], 30)]
    assert triples(second.rows) == [(2, ids[2], 30), (2, ids[3], 30)]
    assert triples(third.rows) == [(5, ids[4], 20), (5, ids[5], 20), (7, ids[6], 10)]
    assert third.next_cursor is None  # the board ends on this page: no cursor to an empty one


def test_a_board_of_exactly_limit_rows_gives_no_next_cursor(session: Any, backend: str) -> None:
    a, b, c = seed(session, [30, 20, 10])
    page = leaderboards.board(session, 1, Scope.USER, Period.ALL, tz=TZ, limit=3)
    assert triples(page.rows) == [(1, a, 30), (2, b, 20), (3, c, 10)]
    assert page.next_cursor is None
    team = leaderboards.board(session, 1, Scope.TEAM, Period.ALL, tz=TZ, limit=2)
    assert [r.subject_id for r in team.rows] == [100, 101] and team.next_cursor is None


def test_a_board_of_limit_plus_one_rows_pages_to_its_last_row_then_stops(session: Any, backend: str) -> None:
    a, b, c, d = seed(session, [30, 20, 20, 10])
    first = leaderboards.board(session, 1, Scope.USER, Period.ALL, tz=TZ, limit=3)
    assert triples(first.rows) == [(1, a, 30), (2, b, 20), (2, c, 20)]
    assert first.next_cursor is not None
    last = leaderboards.board(session, 1, Scope.USER, Period.ALL, tz=TZ, limit=3, cursor=first.next_cursor)
    assert triples(last.rows) == [(4, d, 10)] and last.next_cursor is None


def test_around_me_gives_my_rank_with_neighbours(session: Any, backend: str) -> None:
    ids = seed(session, [60, 50, 50, 50, 40, 30, 20])
    rows = leaderboards.around(session, 1, Scope.USER, Period.ALL, ids[3], 2, tz=TZ)
    assert triples(rows) == [(2, ids[1], 50), (2, ids[2], 50), (2, ids[3], 50), (5, ids[4], 40), (6, ids[5], 30)]
    top = leaderboards.around(session, 1, Scope.USER, Period.ALL, ids[0], 1, tz=TZ)
    assert triples(top) == [(1, ids[0], 60), (2, ids[1], 50)]
    assert leaderboards.around(session, 1, Scope.USER, Period.ALL, 999_999, 2, tz=TZ) == []
    me = leaderboards.rank_of(session, 1, Scope.USER, Period.ALL, ids[6], tz=TZ)
    assert me is not None and (me.rank, me.points) == (7, 20)


def test_around_me_ranks_a_tie_group_that_starts_above_the_window(session: Any, backend: str) -> None:
    ids = seed(session, [50, 50, 50, 50, 40])
    rows = leaderboards.around(session, 1, Scope.USER, Period.ALL, ids[4], 2, tz=TZ)
    assert triples(rows) == [(1, ids[2], 50), (1, ids[3], 50), (5, ids[4], 40)]


def test_hidden_users_show_an_alias_and_deleted_users_drop_out(session: Any, backend: str) -> None:
    a, b, c = seed(session, [30, 20, 10])
    hidden = session.get(User, b)
    hidden.hide_from_leaderboards = True
    session.commit()
    from service.accounts import delete_user

    delete_user(session, session.get(User, c))
    session.commit()
    page = leaderboards.board(session, 1, Scope.USER, Period.ALL, tz=TZ)
    assert [(r.rank, r.subject_id, r.is_alias) for r in page.rows] == [(1, a, False), (2, b, True)]
    assert page.rows[1].label is not None and page.rows[1].label.startswith("Participant #")
    assert "User" not in page.rows[1].label
    assert page.rows[0].label == session.get(User, a).display_name
    assert leaderboards.around(session, 1, Scope.USER, Period.ALL, c, 1, tz=TZ) == []
    team = leaderboards.board(session, 1, Scope.TEAM, Period.ALL, tz=TZ)
    assert triples(team.rows) == [(1, 100, 40), (2, 101, 20)]  # the team keeps the points


def test_rescore_gives_the_same_ranks(session: Any, backend: str) -> None:
    ids = seed(session, [30, 50, 50, 10, 20, 20])
    before = triples(leaderboards.board(session, 1, Scope.USER, Period.ALL, tz=TZ).rows)
    ledger.rescore_contest(session, 1)
    session.commit()
    after = triples(leaderboards.board(session, 1, Scope.USER, Period.ALL, tz=TZ).rows)
    assert after == before and len(after) == len(ids)


def test_bad_limits_and_cursors_are_client_errors(session: Any) -> None:
    import pytest

    from service.errors import Invalid

    with pytest.raises(Invalid):
        leaderboards.board(session, 1, Scope.USER, Period.ALL, limit=0)
    with pytest.raises(Invalid):
        leaderboards.board(session, 1, Scope.USER, Period.ALL, cursor="bm90LWEtY3Vyc29y")


def test_an_unreachable_redis_falls_back_to_sql(session: Any, app: Any, monkeypatch: Any) -> None:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    ids = seed(session, [30, 50])
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, decode_responses=True,
                       retry=Retry(NoBackoff(), 0))
    monkeypatch.setitem(app.extensions, "vcc_redis", dead)
    ledger.score(session, rules(), Subject(ids[0], team_id=100), "activity:late", facts("walking_brisk", 30))
    session.commit()  # the after-commit Redis write fails and is logged; the SQL totals are committed
    page = leaderboards.board(session, 1, Scope.USER, Period.ALL, tz=TZ)
    assert triples(page.rows) == [(1, ids[0], 60), (2, ids[1], 50)]
    assert triples(leaderboards.around(session, 1, Scope.USER, Period.ALL, ids[1], 1, tz=TZ)) == \
        [(1, ids[0], 60), (2, ids[1], 50)]
