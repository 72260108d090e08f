"""One way to the database handle: ``from service.db import db`` (DESIGN: domain models import it without importing
the rest of service/), never through service.extensions, which no longer re-exports it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("service", "scoring", "challenges", "notifications", "bench", "migrations", "tests")


def _imports_db_from_extensions(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module == "service.extensions" \
                and any(alias.name == "db" for alias in node.names):
            return True
    return False


def test_db_is_imported_from_service_db() -> None:
    files = [p for top in SOURCES for p in (ROOT / top).rglob("*.py")] + [ROOT / "wsgi.py"]
    found = {str(p.relative_to(ROOT)) for p in files if _imports_db_from_extensions(p)}
    assert found == set(), "import db from service.db"
