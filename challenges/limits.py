"""A challenge's own plausibility limits, usually stricter than the deployment's (a school's running challenge
flags 20 km/h): what an organiser may set, and the form a challenge stores.

They belong to the challenge's rules (set, validated and locked with them), so they live beside the challenge;
``challenges.activities.plausibility.challenge_flags`` applies them to one activity's entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scoring.catalogue import ACTIVITY_TYPES

DAY_S = 24 * 3600


CHALLENGE_BOUNDS = {"steps_flag_per_day": (1_000, 100_000), "max_duration_s": (600, DAY_S),
                    "max_speed_kmh": (1.0, 150.0)}
"""What an organiser may set per challenge. Looser than the deployment is allowed but adds nothing (the
activity's own verdict already flags it); the upper bounds are the hard step limit, a day, and the speed
above which a GPS track is a vehicle; the lower ones keep a typo from flagging every activity."""

SPEED_TYPES = frozenset(code for code, t in ACTIVITY_TYPES.items() if t.has_distance and t.max_speed_kmh)
"""Type codes a challenge may set a speed limit for: those with a distance (a yoga class has no speed)."""


@dataclass(frozen=True)
class ChallengeLimits:
    """One challenge's own limits (``None``: not set). ``speed`` maps every type code a limit applies to to
    (km/h, the code the organiser named): a limit on a generic type (running) covers its pace variants
    (jogging, running_8mph, ...) unless a variant has its own."""

    steps_flag_per_day: int | None = None
    max_duration_s: int | None = None
    speed: Mapping[str, tuple[float, str]] = field(default_factory=dict)


def challenge_limits(settings: Mapping[str, Any] | None) -> ChallengeLimits | None:
    """The limits of a challenge's stored ``plausibility`` setting (validated at the edge); None when unset."""
    if not settings:
        return None
    named: Mapping[str, float] = settings.get("max_speed_kmh") or {}
    speed: dict[str, tuple[float, str]] = {}
    for code, kmh in named.items():
        for variant in (band for _, band in ACTIVITY_TYPES[code].pace_bands if band not in named):
            speed[variant] = (float(kmh), code)
        speed[code] = (float(kmh), code)
    limits = ChallengeLimits(settings.get("steps_flag_per_day"), settings.get("max_duration_s"), speed)
    return limits if limits != ChallengeLimits() else None


def normalised(settings: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The form a challenge stores: unset keys dropped, an empty setting is ``None`` (no limits of its own)."""
    if not settings:
        return None
    out = {key: value for key, value in settings.items() if value not in (None, {})}
    if "max_speed_kmh" in out:
        out["max_speed_kmh"] = {code: float(out["max_speed_kmh"][code]) for code in sorted(out["max_speed_kmh"])}
    return out or None
