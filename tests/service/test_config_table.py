"""The README's configuration tables are the declaration in service/config.py, row for row, so a variable the
code reads but the README omits (or the reverse, or a changed default) fails here."""

from __future__ import annotations

import pytest

from challenges import privacy
from challenges.activities import plausibility, retention
from challenges.places import qr
from notifications import retention as notification_retention
from service import audit, config
from service.config import PROJECT_ROOT, TABLE_HEADER, TUNABLES, markdown_tables


def readme_tables(text: str) -> list[list[str]]:
    """Every table in the README whose header is the configuration tables' header, header included."""
    lines = text.splitlines()
    tables = []
    for i, line in enumerate(lines):
        if line == TABLE_HEADER[0]:
            end = i
            while end < len(lines) and lines[end].startswith("|"):
                end += 1
            tables.append(lines[i:end])
    return tables


def test_the_readme_tables_are_the_declared_variables_in_order() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    tables, declared = readme_tables(readme), markdown_tables()
    assert len(tables) == len(declared)
    for table, rows in zip(tables, declared, strict=True):  # one table at a time: pytest then names the row
        assert table == rows, "paste `python -m service.config --markdown` into README.md"


def test_a_row_missing_from_the_readme_is_caught() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| `GC_FREEZE` |"))
    assert readme_tables(readme.replace(row + "\n", "")) != markdown_tables()


def test_the_documented_tunable_defaults_are_the_ones_the_domain_applies() -> None:
    applied = {"REPORT_MIN_GROUP_SIZE": privacy.MIN_GROUP_SIZE, "QR_WINDOW_SECONDS": qr.DEFAULT_WINDOW_S,
               "ACTIVITY_RETENTION_DAYS": retention.ACTIVITY_RETENTION_DAYS,
               "NOTIFICATION_RETENTION_DAYS": notification_retention.NOTIFICATION_RETENTION_DAYS,
               "AUDIT_RETENTION_DAYS": audit.AUDIT_RETENTION_DAYS,
               **{key: getattr(plausibility.DEFAULT_LIMITS, field) for key, field in plausibility.CONFIG_KEYS.items()}}
    assert {var.name: var.shown for var in TUNABLES} == {name: f"`{int(value)}`" for name, value in applied.items()}


def test_the_printer_prints_both_tables(capsys: pytest.CaptureFixture[str]) -> None:
    config.main(["--markdown"])
    assert capsys.readouterr().out == "\n\n".join("\n".join(table) for table in markdown_tables()) + "\n"
