"""The two dialect-specific statements scoring needs: INSERT .. ON CONFLICT and a per-key row lock."""

from __future__ import annotations

import json
import zlib
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import ARRAY, Table, any_, literal, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_for(session: Session, table: Table) -> Any:
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"dialect {name} is not supported")


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def one_of(session: Session, column: Any, values: list[Any]) -> Any:
    """``column IN values`` as cheap to send as the database allows.

    On PostgreSQL one array parameter (``= ANY(:array)``): a statement with a thousand ``IN`` placeholders is
    a new, long text that psycopg parses on every call. Elsewhere the usual expanding ``IN``.
    """
    if is_postgres(session):
        return column == any_(literal(list(values), ARRAY(column.type)))
    return column.in_(values)


def lock_keys(session: Session, keys: list[str]) -> None:
    """Serialise writers of the same keys until the transaction ends (PostgreSQL advisory locks).

    SQLite needs nothing: it has one writer at a time. Keys are locked in sorted order so two batches
    that share users cannot deadlock.
    """
    if not keys or not is_postgres(session):
        return
    ids = sorted({zlib.crc32(k.encode()) - 2**31 for k in keys})
    session.execute(text("SELECT count(pg_advisory_xact_lock(k)) FROM "
                         "(SELECT unnest(CAST(:ids AS bigint[])) AS k ORDER BY 1) AS s"), {"ids": ids})


def _json_default(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def _pg_type(column: Any, dialect: Any) -> str:
    return column.type.compile(dialect=dialect)


def _pg_insert_select(table: Table, columns: tuple[str, ...], param: str, dialect: Any) -> str:
    shape = ", ".join(f"{c} {_pg_type(table.c[c], dialect)}" for c in columns)
    return (f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT {', '.join(columns)} "
            f"FROM json_to_recordset(CAST(:{param} AS json)) AS x({shape})")


@lru_cache(maxsize=64)
def _pg_statement(table: Table, columns: tuple[str, ...], conflict: tuple[str, ...], add_on_conflict: str | None,
                  returning: tuple[str, ...], dialect: Any, before: tuple[tuple[Table, tuple[str, ...]], ...] = ()
                  ) -> Any:
    action = "DO NOTHING" if add_on_conflict is None else (
        f"DO UPDATE SET {add_on_conflict} = {table.name}.{add_on_conflict} + EXCLUDED.{add_on_conflict}")
    sql = f"{_pg_insert_select(table, columns, 'rows', dialect)} ON CONFLICT ({', '.join(conflict)}) {action}"
    if before:  # data-modifying CTEs run even though the main statement does not read them
        sql = "WITH " + ", ".join(f"before{i} AS ({_pg_insert_select(t, cols, f'before{i}', dialect)})"
                                  for i, (t, cols) in enumerate(before)) + f" {sql}"
    if returning:
        sql += f" RETURNING {', '.join(returning)}"
    return text(sql)


def bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]], conflict: list[str], *,
                add_on_conflict: str | None = None, returning: list[str] | None = None,
                before: list[tuple[Table, list[dict[str, Any]]]] | None = None) -> list[tuple[Any, ...]]:
    """INSERT many rows, ON CONFLICT (``conflict``) DO NOTHING, or add to ``add_on_conflict`` when given.

    PostgreSQL gets one ``INSERT .. SELECT .. FROM json_to_recordset(:rows)``: a short statement (psycopg
    caches its parse) with one JSON parameter (json.dumps is C), instead of SQLAlchemy's multi-row VALUES
    whose tens of thousands of placeholders psycopg re-parses on every batch (~0.5 s per 1,000 rows) or
    per-column arrays (psycopg's text array dumper costs ~0.1 ms per row).
    SQLite uses SQLAlchemy's own multi-row insert. Returns the ``returning`` columns of the rows written.

    ``before`` (tables and rows) are plain INSERTs (no conflict clause: a duplicate raises) done first; on
    PostgreSQL they ride in the same statement as CTEs, one round trip for all.
    """
    before = [(t, r) for t, r in before or () if r]
    if before and not rows:
        for t, r in before:
            session.execute(t.insert(), r)
        return []
    if not rows:
        return []
    columns = list(rows[0])
    if is_postgres(session):
        dialect = session.get_bind().dialect
        first = tuple((t, tuple(r[0])) for t, r in before)
        out: list[tuple[Any, ...]] = []
        for start in range(0, len(rows), 5000):
            sql = _pg_statement(table, tuple(columns), tuple(conflict), add_on_conflict, tuple(returning or ()),
                                dialect, first if start == 0 else ())
            params = {"rows": json.dumps(rows[start:start + 5000], default=_json_default, separators=(",", ":"))}
            if start == 0:
                for i, (_, r) in enumerate(before):
                    params[f"before{i}"] = json.dumps(r, default=_json_default, separators=(",", ":"))
            result = session.execute(sql, params)
            if returning:
                out.extend(tuple(r) for r in result)
        return out
    for t, r in before:
        session.execute(t.insert(), r)
    stmt = insert_for(session, table)
    if add_on_conflict is None:
        stmt = stmt.on_conflict_do_nothing(index_elements=conflict)
    else:
        stmt = stmt.on_conflict_do_update(index_elements=conflict, set_={
            add_on_conflict: table.c[add_on_conflict] + stmt.excluded[add_on_conflict]})
    if not returning:
        for start in range(0, len(rows), 2000):
            session.execute(stmt, rows[start:start + 2000])
        return []
    stmt = stmt.returning(*(table.c[c] for c in returning))
    out = []
    for start in range(0, len(rows), 2000):
        out.extend(tuple(r) for r in session.execute(stmt, rows[start:start + 2000]))
    return out
