"""Writing many new rows at once, with a concurrent writer's duplicate named for the client.

A 1,000-item sync writes 1,000 activities and ~1,000 entries; ``service.db_dialect.write_rows`` streams them by
COPY on PostgreSQL, in the same transaction. A concurrent writer of the same (user, source, external_id)
makes COPY fail as a whole: that is reported as a 409 asking the client to retry (the retry then sees the
other writer's rows as duplicates), never as a 500.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from service.db_dialect import COPY_FROM, write_rows
from service.errors import Conflict

__all__ = ["COPY_FROM", "ConcurrentWrite", "write"]


class ConcurrentWrite(Conflict):
    code = "concurrent-sync"


def write(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` inside the session's transaction."""
    import psycopg

    try:
        write_rows(session, table, rows)
    except psycopg.errors.UniqueViolation as exc:
        raise ConcurrentWrite("Another sync stored some of these records at the same moment; send the batch "
                              "again (what is already stored is then answered as a duplicate).") from exc
