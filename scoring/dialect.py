"""The two dialect-specific statements scoring needs: INSERT .. ON CONFLICT and a per-key row lock."""

from __future__ import annotations

import zlib
from typing import Any

from sqlalchemy import Table, text
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
