"""The dialect helpers: the same answers on SQLite and PostgreSQL, whatever form the statement takes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from scoring.dialect import one_of
from service.models import User


def test_one_of_selects_exactly_the_listed_ids_and_nothing_for_an_empty_list(session: Any, users: list[Any]) -> None:
    wanted = [users[0].id, users[2].id, 10**9]
    found = set(session.scalars(select(User.id).where(one_of(session, User.id, wanted))))
    assert found == {users[0].id, users[2].id}
    assert list(session.scalars(select(User.id).where(one_of(session, User.id, [])))) == []
    many = [u.id for u in users] + list(range(10**9, 10**9 + 5000))  # long lists stay one parameter on PG
    assert set(session.scalars(select(User.id).where(one_of(session, User.id, many)))) == {u.id for u in users}
