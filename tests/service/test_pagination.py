"""Keyset pages: a cursor only when another row exists, and a tampered cursor is a 400, never a 500."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.errors import Invalid
from service.pagination import cursor_fields, encode_cursor, keyset_page
from tests.factories import auth_headers, make_user, quick_user


def test_keyset_page_gives_a_cursor_only_when_the_extra_row_came_back() -> None:
    assert keyset_page([1, 2, 3], 3, lambda n: {"id": n}) == ([1, 2, 3], None)
    items, cursor = keyset_page([1, 2, 3, 4], 3, lambda n: {"id": n})
    assert items == [1, 2, 3]
    assert cursor_fields(cursor, id=int) == {"id": 3}


def test_cursor_fields_parse_each_named_field() -> None:
    at = datetime(2030, 5, 1, 12, tzinfo=UTC)
    cursor = encode_cursor({"at": at.isoformat(), "id": 7})
    assert cursor_fields(cursor, at=datetime.fromisoformat, id=int) == {"at": at, "id": 7}
    assert cursor_fields(None, id=int) is None


@pytest.mark.parametrize("values", [{"id": "x"}, {"other": 1}, {"id": None}])
def test_a_cursor_missing_a_field_or_holding_a_bad_value_is_refused(values: dict[str, Any]) -> None:
    with pytest.raises(Invalid, match="not one this API issued"):
        cursor_fields(encode_cursor(values), id=int)


@pytest.mark.parametrize("path", ["/api/v1/activities", "/api/v1/me/badges", "/api/v1/organisations",
                                  "/api/v1/me/notifications"])
def test_list_endpoints_answer_a_tampered_cursor_with_a_400_problem(app: Flask, client: FlaskClient, session: Any,
                                                                   path: str) -> None:
    user = make_user(session)
    session.commit()
    resp = client.get(path, query_string={"cursor": encode_cursor({"id": "x", "at": "never"})},
                      headers=auth_headers(app, user))
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    assert resp.json["type"].endswith("/bad-cursor")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.text(alphabet="abc", min_size=1, max_size=2), min_size=0, max_size=12),
       limit=st.integers(min_value=1, max_value=5), descending=st.booleans())
def test_walking_keyset_pages_gives_every_row_once_in_the_order_of_the_keys(
        session: Any, names: list[str], limit: int, descending: bool) -> None:
    """Names repeat, so the id (the last key) decides ties; the pages together are the one ordered query."""
    from sqlalchemy import delete, select

    from service.models import User
    from service.pagination import keyset_rows

    made = [quick_user(session, display_name=name).id for name in names]
    keys = [User.display_name, User.id]
    query = select(User).where(User.id.in_(made))
    order = [k.desc() if descending else k.asc() for k in keys]
    expected = [u.id for u in session.scalars(query.order_by(*order))]
    walked: list[int] = []
    cursor: str | None = None
    for _ in range(len(names) + 1):
        page, cursor = keyset_rows(session, query, keys, limit=limit, cursor=cursor, descending=descending)
        assert len(page) <= limit
        walked += [u.id for u in page]
        if cursor is None:
            break
    assert walked == expected and cursor is None
    session.execute(delete(User).where(User.id.in_(made)))
