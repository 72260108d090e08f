"""Small dialect helpers: the same 'insert unless it exists' and 'claim' statements on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def insert_ignore(session: Session, model: Any, *, index_elements: list[str] | None = None) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` for the session's dialect (both spell it the same way)."""
    stmt = postgresql.insert(model) if dialect(session) == "postgresql" else sqlite.insert(model)
    return stmt.on_conflict_do_nothing(index_elements=index_elements)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def bulk_insert_ignore(session: Session, table: Table, rows: list[dict[str, Any]], conflict: list[str],
                       returning: str, chunk: int = 5000) -> int:
    """Insert many rows, skipping conflicts; returns how many were new.

    PostgreSQL gets one short ``INSERT .. SELECT .. FROM json_to_recordset(:rows)`` per chunk: SQLAlchemy's
    multi-row VALUES with RETURNING has ~13 placeholders a row, which psycopg re-parses for every batch
    (measured: 100,000 nudges took 23 s that way, most of it in psycopg's query splitting). SQLite takes
    SQLAlchemy's own batched insert. Rows must share their keys; datetimes must be aware.
    """
    if not rows:
        return 0
    inserted = 0
    if dialect(session) == "postgresql":
        pg = session.get_bind().dialect
        columns = list(rows[0])
        names = ", ".join(f'"{c}"' for c in columns)
        shape = ", ".join(f'"{c}" {table.c[c].type.compile(dialect=pg)}' for c in columns)
        sql = text(f'INSERT INTO "{table.name}" ({names}) SELECT {names} '
                   f"FROM json_to_recordset(CAST(:rows AS json)) AS x({shape}) "
                   f"ON CONFLICT ({', '.join(conflict)}) DO NOTHING RETURNING \"{returning}\"")
        for start in range(0, len(rows), chunk):
            payload = json.dumps(rows[start:start + chunk], default=_json_default, separators=(",", ":"))
            inserted += len(session.execute(sql, {"rows": payload}).all())
        return inserted
    stmt = insert_ignore(session, table, index_elements=conflict).returning(table.c[returning])
    for start in range(0, len(rows), chunk):
        inserted += len(session.execute(stmt, rows[start:start + chunk]).all())
    return inserted
