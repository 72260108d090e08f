"""Small dialect helpers: the same 'insert unless it exists' and 'claim' statements on SQLite and PostgreSQL.

Bulk inserts use scoring.dialect.bulk_insert (one json_to_recordset statement per chunk on PostgreSQL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def insert_ignore(session: Session, model: Any, *, index_elements: list[str] | None = None) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` for the session's dialect (both spell it the same way)."""
    stmt = postgresql.insert(model) if dialect(session) == "postgresql" else sqlite.insert(model)
    return stmt.on_conflict_do_nothing(index_elements=index_elements)
