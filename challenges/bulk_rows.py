"""Writing many rows at once: COPY on PostgreSQL, executemany elsewhere.

A 1,000-item sync writes 1,000 activities and ~1,000 entries. An INSERT executemany through SQLAlchemy costs
~80 ms per table on PostgreSQL (per-row parameter adaptation in Python); psycopg's COPY streams the same rows
in a few milliseconds, in the same transaction. A concurrent writer of the same (user, source, external_id)
makes COPY fail as a whole: that is reported as a 409 asking the client to retry (the retry then sees the
other writer's rows as duplicates), never as a 500.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

import sqlalchemy
from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from scoring.dialect import is_postgres
from service.errors import Conflict

COPY_FROM = 20
"""Below this many rows a plain INSERT is as cheap and simpler to reason about."""


class ConcurrentWrite(Conflict):
    code = "concurrent-sync"


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def write(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` inside the session's transaction."""
    if not rows:
        return
    if not is_postgres(session) or len(rows) < COPY_FROM:
        session.execute(insert(table), list(rows))
        return
    import psycopg

    columns = list(rows[0])
    # only enum columns (or any holding an enum in the first row) need converting: not every value of 1,000 rows
    enums = [i for i, c in enumerate(columns)
             if isinstance(table.c[c].type, sqlalchemy.Enum) or isinstance(rows[0][c], enum.Enum)]
    raw = session.connection().connection.driver_connection
    names = ", ".join(f'"{c}"' for c in columns)
    try:
        with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                values = [row[c] for c in columns]
                for i in enums:
                    values[i] = _plain(values[i])
                copy.write_row(values)
    except psycopg.errors.UniqueViolation as exc:
        raise ConcurrentWrite("Another sync stored some of these records at the same moment; send the batch "
                              "again (what is already stored is then answered as a duplicate).") from exc
