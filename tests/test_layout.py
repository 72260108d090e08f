"""The house keeps its shape: small modules, a challenges/ top level a newcomer can read, rooms in every
sub-package (docs/architecture.md)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("service", "scoring", "challenges", "notifications")
MAX_LINES = 400
MAX_TOP_LEVEL = 13  # "about 12"; __init__.py not counted


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_is_over_400_lines(package: str) -> None:
    long = {str(p.relative_to(ROOT)): n for p in _modules(package)
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}, f"split these modules: {long}"


def test_challenges_top_level_stays_readable() -> None:
    top = [p.name for p in (ROOT / "challenges").glob("*.py") if p.name != "__init__.py"]
    assert len(top) <= MAX_TOP_LEVEL, sorted(top)


@pytest.mark.parametrize("sub", ["activities", "participation", "places", "standings"])
def test_every_challenge_sub_package_has_its_api_and_schemas_rooms(sub: str) -> None:
    rooms = {p.name for p in (ROOT / "challenges" / sub).glob("*.py")}
    assert {"__init__.py", "api.py", "schemas.py"} <= rooms


def test_every_sub_package_says_what_it_is() -> None:
    silent = [str(p.relative_to(ROOT)) for package in PACKAGES for p in (ROOT / package).rglob("__init__.py")
              if p.parent != ROOT / package and not p.read_text().lstrip().startswith('"""')]
    assert silent == []


def test_blueprint_names_follow_one_convention(app: Any) -> None:
    """Blueprint names become OpenAPI tags and endpoint prefixes: kebab-case, like the URLs."""
    odd = [name for name in app.blueprints if not re.fullmatch(r"[a-z]+(-[a-z]+)*", name)]
    assert odd == []
