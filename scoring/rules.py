"""Rules: one accepted activity -> its value in the contest's metric, and integer points.

Units: active minutes (moderate + vigorous minutes; a vigorous minute counts 2 when the contest says so,
as WHO 2020 guidance allows), MET-minutes (MET x minutes, after resolving a generic type to its pace
band), steps, distance in metres, 1 per check-in, 1 per session. One point per unit, rounded half up;
the daily cap (metric units, per participant per contest-local day) is applied by the ledger.
"""

from __future__ import annotations

import math

from scoring.catalogue import CHECKIN, Intensity, get_type, resolve_pace
from scoring.types import ActivityFacts, Metric, ScoringRules


def metric_value(rules: ScoringRules, facts: ActivityFacts) -> float:
    return explain(rules, facts)[0]


def explain(rules: ScoringRules, facts: ActivityFacts) -> tuple[float, str]:
    """The metric value and the rule text recorded with the ledger entry."""
    activity = get_type(facts.type_code)
    metric = Metric(rules.metric)
    if rules.allowed_types is not None and activity.code not in rules.allowed_types and activity is not CHECKIN:
        return 0.0, f"{activity.code}: not an allowed type"
    if activity is CHECKIN:
        value = 1.0 if metric is Metric.CHECKINS else 0.0
        return value, f"checkin: {value:g} {metric.value}"
    if metric is Metric.CHECKINS:
        return 0.0, f"{activity.code}: not a check-in"
    minutes = max(0, facts.duration_s) / 60
    if metric is Metric.SESSIONS:
        return 1.0, f"{activity.code}: 1 session"
    if metric is Metric.STEPS:
        steps = float(facts.steps or 0)
        return steps, f"{activity.code}: {steps:g} steps"
    if metric is Metric.DISTANCE_M:
        dist = float(facts.distance_m or 0) if activity.has_distance else 0.0
        return dist, f"{activity.code}: {dist:g} m"
    paced = resolve_pace(activity, facts.distance_m, facts.duration_s)
    code = f"{paced.code} ({paced.compendium_code}, {paced.met:g} MET)"
    if metric is Metric.MET_MINUTES:
        value = paced.met * minutes
        return value, f"{code}: {paced.met:g} MET x {minutes:g} min = {value:g} MET-min"
    # active minutes
    if paced.intensity is Intensity.VIGOROUS:
        factor = 2 if rules.vigorous_counts_double else 1
        return minutes * factor, f"{code}: vigorous {minutes:g} min x{factor}"
    if paced.intensity is Intensity.MODERATE:
        return minutes, f"{code}: moderate {minutes:g} min"
    return 0.0, f"{code}: light, not active minutes"


def to_points(value: float) -> int:
    """Integer points, rounded half up (never banker's rounding, so 0.5 min counts)."""
    return math.floor(value + 0.5)


def cap_points(rules: ScoringRules) -> int | None:
    return None if rules.daily_cap is None else math.floor(rules.daily_cap)
