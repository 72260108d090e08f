"""MET arithmetic and metric values for several activity types and paces."""

from __future__ import annotations

import pytest

from scoring.catalogue import ACTIVITY_TYPES, Intensity, get_type, resolve_pace
from scoring.errors import UnknownActivityType
from scoring.rules import explain, metric_value, to_points
from scoring.types import Metric
from tests.scoring.factories import facts, rules


@pytest.mark.parametrize(("code", "minutes", "expected"), [
    ("walking_slow", 60, 180.0),          # 17170: 3.0 MET
    ("walking_brisk", 30, 144.0),         # 17200: 4.8 MET
    ("running_6mph", 30, 279.0),          # 12050: 9.3 MET
    ("running_10mph", 20, 296.0),         # 12120: 14.8 MET
    ("cycling_commute", 45, 306.0),       # 01011: 6.8 MET
    ("cycling_leisure", 60, 240.0),       # 01010: 4.0 MET
    ("swimming_fast", 30, 294.0),         # 18230: 9.8 MET
    ("yoga", 60, 138.0),                  # 02150: 2.3 MET
])
def test_met_minutes_are_met_times_minutes(code: str, minutes: int, expected: float) -> None:
    assert metric_value(rules(metric=Metric.MET_MINUTES), facts(code, minutes)) == pytest.approx(expected)


@pytest.mark.parametrize(("km", "minutes", "band", "met"), [
    (4.0, 60, "walking_slow", 3.0),        # 4.0 km/h = 2.49 mph
    (5.0, 60, "walking_moderate", 3.8),    # 3.1 mph
    (6.0, 60, "walking_brisk", 4.8),       # 3.7 mph
    (6.8, 60, "walking_very_brisk", 5.5),  # 4.2 mph
    (7.5, 60, "walking_fast", 7.0),        # 4.66 mph
])
def test_generic_walking_resolves_the_pace_band_from_distance(km: float, minutes: int, band: str, met: float) -> None:
    value, rule = explain(rules(metric=Metric.MET_MINUTES), facts("walking", minutes, distance_m=km * 1000))
    assert resolve_pace(get_type("walking"), km * 1000, minutes * 60).code == band
    assert value == pytest.approx(met * minutes)
    assert band in rule


def test_running_and_cycling_paces() -> None:
    r = rules(metric=Metric.MET_MINUTES)
    assert metric_value(r, facts("running", 60, distance_m=11_265)) == pytest.approx(11.0 * 60)  # 7 mph
    assert metric_value(r, facts("cycling", 60, distance_m=21_000)) == pytest.approx(8.0 * 60)   # 13 mph
    assert metric_value(r, facts("cycling", 60)) == pytest.approx(6.8 * 60)  # no distance: commute MET


def test_active_minutes_count_moderate_and_vigorous_but_not_light() -> None:
    r = rules(metric=Metric.ACTIVE_MINUTES)
    assert metric_value(r, facts("walking_brisk", 30)) == 30
    assert metric_value(r, facts("running_8mph", 30)) == 30
    assert metric_value(r, facts("yoga", 30)) == 0
    doubled = rules(metric=Metric.ACTIVE_MINUTES, vigorous_counts_double=True)
    assert metric_value(doubled, facts("running_8mph", 30)) == 60
    assert metric_value(doubled, facts("walking_brisk", 30)) == 30


def test_intensity_classes_follow_met_thresholds() -> None:
    assert get_type("yoga").intensity is Intensity.LIGHT
    assert get_type("walking_slow").intensity is Intensity.MODERATE  # exactly 3.0 is moderate
    assert get_type("ebike").intensity is Intensity.VIGOROUS           # exactly 6.0 is vigorous
    assert all(t.compendium_code for c, t in ACTIVITY_TYPES.items() if c != "checkin")


def test_steps_distance_checkins_sessions() -> None:
    assert metric_value(rules(metric=Metric.STEPS), facts("walking", 60, steps=6500)) == 6500
    assert metric_value(rules(metric=Metric.DISTANCE_M), facts("cycling", 30, distance_m=8000)) == 8000
    assert metric_value(rules(metric=Metric.DISTANCE_M), facts("yoga", 30, distance_m=8000)) == 0
    assert metric_value(rules(metric=Metric.CHECKINS), facts("checkin", 0)) == 1
    assert metric_value(rules(metric=Metric.CHECKINS), facts("walking", 30)) == 0
    assert metric_value(rules(metric=Metric.SESSIONS), facts("football", 90)) == 1


def test_types_outside_the_allowed_list_score_nothing() -> None:
    r = rules(metric=Metric.ACTIVE_MINUTES, allowed_types=frozenset({"cycling_commute"}))
    assert metric_value(r, facts("walking_brisk", 30)) == 0
    assert metric_value(r, facts("cycling_commute", 30)) == 30


def test_unknown_type_is_an_unprocessable_error() -> None:
    with pytest.raises(UnknownActivityType) as exc:
        get_type("teleporting")
    assert exc.value.code == "unknown-activity-type"


def test_points_round_half_up() -> None:
    assert [to_points(v) for v in (0.49, 0.5, 1.5, 2.5, 29.99)] == [0, 1, 2, 3, 30]
