"""The one time-zone helper: cached per name, and an unknown name fails as ZoneInfo fails."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

from service.clock import zone


def test_the_same_name_gives_the_same_zone_object() -> None:
    helsinki = zone("Europe/Helsinki")
    assert isinstance(helsinki, ZoneInfo) and helsinki.key == "Europe/Helsinki"
    assert zone("Europe/Helsinki") is helsinki


def test_an_unknown_name_raises_and_is_not_cached() -> None:
    for _ in range(2):
        with pytest.raises(ZoneInfoNotFoundError):
            zone("Nowhere/Atlantis")
