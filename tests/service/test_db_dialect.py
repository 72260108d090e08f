"""The dialect helpers: the same answers on SQLite and PostgreSQL, whatever form the statement takes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from scoring.models import EntryKind, PointsEntry
from service.db_dialect import COPY_FROM, one_of, write_rows
from service.models import User


def test_one_of_selects_exactly_the_listed_ids_and_nothing_for_an_empty_list(session: Any, users: list[Any]) -> None:
    wanted = [users[0].id, users[2].id, 10**9]
    found = set(session.scalars(select(User.id).where(one_of(session, User.id, wanted))))
    assert found == {users[0].id, users[2].id}
    assert list(session.scalars(select(User.id).where(one_of(session, User.id, [])))) == []
    many = [u.id for u in users] + list(range(10**9, 10**9 + 5000))  # long lists stay one parameter on PG
    assert set(session.scalars(select(User.id).where(one_of(session, User.id, many)))) == {u.id for u in users}


def _ledger_rows(user_ids: list[int], n: int, tag: str) -> list[dict[str, Any]]:
    now = datetime(2026, 5, 4, 7, 30, tzinfo=UTC)
    return [{"contest_id": 77, "entry_key": f"act:{tag}:{i}:0", "source_key": f"{tag}:{i}", "generation": 0,
             "kind": EntryKind.ACTIVITY if i % 2 else EntryKind.BONUS.value, "user_id": user_ids[i % len(user_ids)],
             "team_id": None if i % 3 else 5, "organisation_id": None, "local_day": date(2026, 5, 1 + i % 28),
             "type_code": "walking" if i % 4 else None, "metric_value": 12.5 + i if i % 5 else 3,
             "uncapped_points": 2**40 + i, "points": -i, "rule": f"rule {i} ü", "created_at": now}
            for i in range(n)]


@pytest.mark.parametrize("n", [3, COPY_FROM, 250])
def test_write_rows_stores_every_value_as_given_whether_by_insert_or_copy(session: Any, users: list[Any],
                                                                          n: int) -> None:
    rows = _ledger_rows([u.id for u in users], n, f"w{n}")
    write_rows(session, PointsEntry.__table__, rows)
    stored = session.execute(select(PointsEntry.__table__).where(PointsEntry.source_key.like(f"w{n}:%"))
                             .order_by(PointsEntry.id)).mappings().all()
    assert len(stored) == n
    for want, got in zip(rows, stored, strict=True):
        for key, value in want.items():
            value = value.value if isinstance(value, EntryKind) else value
            got_value = got[key].value if isinstance(got[key], EntryKind) else got[key]
            if key == "created_at":
                assert got_value.replace(tzinfo=UTC) == value  # SQLite hands back naive UTC
            else:
                assert got_value == value, key


def test_write_rows_refuses_a_duplicate_instead_of_skipping_it(session: Any, users: list[Any]) -> None:
    rows = _ledger_rows([users[0].id], COPY_FROM, "dup")
    write_rows(session, PointsEntry.__table__, rows)
    session.commit()
    with pytest.raises((IntegrityError, psycopg.errors.UniqueViolation)):
        write_rows(session, PointsEntry.__table__, rows)
    session.rollback()
    assert session.scalar(select(func.count()).where(PointsEntry.source_key.like("dup:%"))) == COPY_FROM
