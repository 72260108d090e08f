"""Challenge lifecycle: create, edit, publish, end; and the scoring rules a challenge hands to scoring/."""

from __future__ import annotations

from challenges.models import Challenge
from scoring.types import Metric, ScoringRules


def rules_for(challenge: Challenge) -> ScoringRules:
    """The scoring engine's view of a challenge: what it counts, in which time zone, with which caps."""
    allowed = frozenset(challenge.allowed_types) if challenge.allowed_types is not None else None
    return ScoringRules(contest_id=challenge.id, metric=Metric(challenge.metric), timezone=challenge.timezone,
                        daily_cap=challenge.daily_cap, vigorous_counts_double=challenge.vigorous_counts_double,
                        allowed_types=allowed)
