"""The dialect-specific statements of every package, in one place: INSERT .. ON CONFLICT (insert unless it
exists), a per-key row lock, ``= ANY(array)`` for long id lists, and bulk writes (COPY or json_to_recordset on
PostgreSQL, executemany on SQLite). Only SQLite and PostgreSQL are supported."""

from __future__ import annotations

import enum
import json
import zlib
from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import sqlalchemy
from sqlalchemy import ARRAY, Table, any_, insert, literal, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def is_postgres(session: Session) -> bool:
    return dialect(session) == "postgresql"


def rows_affected(session: Session, statement: sqlalchemy.Executable) -> int:
    """Run a bulk UPDATE or DELETE (no ORM synchronisation) and say how many rows it touched."""
    result = session.execute(statement.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def insert_for(session: Session, table: Any) -> Any:
    name = dialect(session)
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"dialect {name} is not supported")


def insert_ignore(session: Session, model: Any, *, index_elements: list[str] | None = None) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` for the session's dialect (both spell it the same way)."""
    return insert_for(session, model).on_conflict_do_nothing(index_elements=index_elements)


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


COPY_FROM = 20
"""Below this many rows a plain INSERT is as cheap as COPY and simpler to reason about."""


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def write_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys; no conflict clause, so a duplicate raises) in the session's
    transaction: binary COPY on PostgreSQL from ``COPY_FROM`` rows, an executemany INSERT otherwise.

    COPY streams 1,000 rows in a few milliseconds where an executemany adapts every parameter in Python
    (~80 ms per 1,000 rows) and a ``json_to_recordset`` statement spends ~3x COPY's CPU encoding keys and
    values. Binary with the columns' types fixed up front: psycopg picks each column's dumper once instead
    of per value, and the server parses no text (about half the time of text COPY for a ledger batch).
    psycopg's ``UniqueViolation`` comes through as it is, for the caller to name.
    """
    if not rows:
        return
    if not is_postgres(session) or len(rows) < COPY_FROM:
        session.execute(insert(table), list(rows))
        return
    columns = tuple(rows[0])
    # only enum columns (or any holding an enum in the first row) need converting: not every value of 1,000 rows
    enums = [i for i, c in enumerate(columns)
             if isinstance(table.c[c].type, sqlalchemy.Enum) or isinstance(rows[0][c], enum.Enum)]
    raw = session.connection().connection.driver_connection
    names = ", ".join(f'"{c}"' for c in columns)
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN (FORMAT BINARY)') as copy:
        copy.set_types(list(_copy_types(table, columns)))
        for row in rows:
            values = [row[c] for c in columns]
            for i in enums:
                values[i] = _plain(values[i])
            copy.write_row(values)


_PG_NAMES = {"float": "double precision"}  # SQLAlchemy's FLOAT; every other compiled name psycopg knows as is


@lru_cache(maxsize=64)
def _copy_types(table: Table, columns: tuple[str, ...]) -> tuple[str, ...]:
    """The PostgreSQL type name of each column, as psycopg's registry knows it (``VARCHAR(64)`` -> varchar)."""
    dialect = postgresql.dialect()
    out = []
    for c in columns:
        name = table.c[c].type.compile(dialect=dialect).split("(", 1)[0].strip().lower()
        out.append(_PG_NAMES.get(name, name))
    return tuple(out)


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
    PostgreSQL a few rows ride in the same statement as CTEs, one round trip for all, and many go by COPY.
    """
    before = [(t, r) for t, r in before or () if r]
    if before and not rows:
        for t, r in before:
            write_rows(session, t, r)
        return []
    if not rows:
        return []
    columns = list(rows[0])
    if is_postgres(session):
        for t, r in before:
            if len(r) >= COPY_FROM:
                write_rows(session, t, r)
        before = [(t, r) for t, r in before if len(r) < COPY_FROM]
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
