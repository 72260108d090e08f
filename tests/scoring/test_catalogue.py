"""The activity catalogue pinned to the 2024 Adult Compendium: every type's Compendium code and MET value.

The table below is written out by hand from the 2024 Adult Compendium (Herrmann et al., J Sport Health Sci
2024; pacompendium.com), checked on 2026-12-03, so that changing a MET value or a code in
scoring/catalogue.py fails here until the table is updated too (with the Compendium row as the reason).
"""

from __future__ import annotations

import math
import re

import pytest

from scoring.catalogue import ACTIVITY_TYPES, CHECKIN, Intensity, intensity_of

# type code -> (Compendium code, MET); the Compendium description in the comment
PINNED: dict[str, tuple[str | None, float]] = {
    # walking
    "walking": ("17200", 4.8),               # generic: scored as walking_brisk without a distance
    "walking_slow": ("17170", 3.0),          # walking, 2.5 mph, firm, level surface
    "walking_moderate": ("17190", 3.8),      # walking, 2.8 to 3.4 mph, level, moderate pace, firm surface
    "walking_brisk": ("17200", 4.8),         # walking, 3.5 to 3.9 mph, level, brisk, firm surface
    "walking_very_brisk": ("17220", 5.5),    # walking, 4.0 to 4.4 mph, level, firm surface, very brisk pace
    "walking_fast": ("17230", 7.0),          # walking, 4.5 to 4.9 mph, level, firm surface, very, very brisk
    "hiking": ("17080", 6.0),                # hiking, cross country
    "stairs": ("17133", 4.5),                # stair climbing, slow pace (2011: 4.0)
    "nordic_walking": ("17304", 5.3),        # walking for exercise, 3.6 to 4.4 mph, ski poles, Nordic walking
    # running
    "running": ("12050", 9.3),               # generic: scored as running_6mph without a distance
    "jogging": ("12020", 7.5),               # jogging, general, self-selected pace
    "running_6mph": ("12050", 9.3),          # running, 6-6.3 mph (10 min/mile)
    "running_7mph": ("12070", 11.0),         # running, 7 mph (8.5 min/mile)
    "running_8mph": ("12090", 12.0),         # running, 8 mph (7.5 min/mile)
    "running_10mph": ("12120", 14.8),        # running, 10 mph (6 min/mile)
    # bicycling
    "cycling": ("01011", 6.8),               # generic: scored as cycling_commute without a distance
    "cycling_leisure": ("01010", 4.0),       # bicycling, <10 mph, leisure, to work or for pleasure
    "cycling_commute": ("01011", 6.8),       # bicycling, to/from work, self selected pace
    "cycling_12mph": ("01030", 8.0),         # bicycling, 12-13.9 mph, leisure, moderate effort
    "cycling_14mph": ("01040", 10.0),        # bicycling, 14-15.9 mph, racing or leisure, fast, vigorous
    "cycling_16mph": ("01050", 12.0),        # bicycling, 16-19 mph, racing/not drafting, very fast
    "ebike": ("01084", 6.0),                 # e-bike with light electronic support
    "ebike_high_support": ("01088", 4.0),    # e-bike with high electronic support
    # water
    "swimming_leisure": ("18310", 6.0),      # swimming, leisurely, not lap swimming, general
    "swimming_slow": ("18240", 5.8),         # swimming laps, freestyle, slow, recreational
    "swimming_fast": ("18230", 9.8),         # swimming laps, freestyle, fast, vigorous effort
    "kayaking": ("18100", 5.0),              # kayaking, moderate effort
    # sports
    "football": ("15610", 7.0),              # soccer, casual, general
    "basketball": ("15055", 7.5),            # basketball, general (2011: 6.5)
    "volleyball": ("15710", 4.0),            # volleyball
    "floorball": ("15205", 10.5),            # floorball (before: 15360 hockey, ice, general, 8.0)
    "tennis": ("15675", 6.8),                # tennis, general, moderate effort (2011: 7.3)
    "badminton": ("15030", 5.5),             # badminton, social singles and doubles, general
    "skiing_cross_country": ("19090", 8.5),  # skiing, cross country, 4.0-4.9 mph, moderate (2011: 9.0)
    # conditioning exercise and dance
    "fitness_gym": ("02054", 3.5),           # resistance (weight) training, multiple exercises, 8-15 reps
    "circuit_training": ("02040", 7.5),      # circuit training, ..., general, vigorous intensity (2011: 8.0)
    "aerobics": ("02000", 7.3),              # aerobic, general (2011 code 03015)
    "yoga": ("02150", 2.3),                  # yoga, Hatha (2011: 2.5)
    "pilates": ("02105", 2.8),               # Pilates, general (2011: 3.0)
    "stretching": ("02101", 2.3),            # stretching, mild
    "dancing": ("03025", 4.5),               # ethnic or cultural dancing (e.g. salsa, swing)
    # home and garden
    "gardening": ("08245", 3.8),             # gardening, general, moderate effort
    "snow_shovelling": ("08195", 5.3),       # shoveling snow, by hand, moderate effort (2011 code 08202)
    # 2024 Wheelchair Compendium: NOT verified against its table (kept as they were)
    "wheelchair": ("WC", 3.5),
    "wheelchair_sport": ("WC", 6.5),
    # not an activity: the type a check-in is scored under
    "checkin": (None, 0.0),
}

GENERIC = {"walking": "walking_brisk", "running": "running_6mph", "cycling": "cycling_commute"}


def test_the_pinned_table_lists_every_type() -> None:
    assert set(PINNED) == set(ACTIVITY_TYPES)


@pytest.mark.parametrize("code", sorted(PINNED))
def test_compendium_code_and_met_are_the_2024_values(code: str) -> None:
    activity = ACTIVITY_TYPES[code]
    assert (activity.compendium_code, activity.met) == PINNED[code]


def test_codes_are_five_digit_compendium_codes_or_wheelchair() -> None:
    for code, activity in ACTIVITY_TYPES.items():
        if activity is CHECKIN:
            assert activity.compendium_code is None
        else:
            assert activity.compendium_code == "WC" or re.fullmatch(r"\d{5}", activity.compendium_code or ""), code


def test_every_activity_costs_more_than_rest() -> None:
    """1 MET is sitting quietly; only the check-in pseudo type has no MET value."""
    for code, activity in ACTIVITY_TYPES.items():
        if activity is CHECKIN:
            assert activity.met == 0 and activity.intensity is Intensity.NONE
        else:
            assert activity.met > 1, code
            assert activity.intensity is intensity_of(activity.met)


def test_light_types_are_the_ones_below_three_met() -> None:
    light = {code for code, t in ACTIVITY_TYPES.items() if t.intensity is Intensity.LIGHT}
    assert light == {"yoga", "pilates", "stretching"}


@pytest.mark.parametrize("generic", sorted(GENERIC))
def test_pace_bands_ascend_in_speed_and_met(generic: str) -> None:
    activity = ACTIVITY_TYPES[generic]
    uppers = [upper for upper, _ in activity.pace_bands]
    assert uppers == sorted(uppers) and len(set(uppers)) == len(uppers)
    assert math.isinf(uppers[-1])
    bands = [ACTIVITY_TYPES[band] for _, band in activity.pace_bands]
    assert [b.met for b in bands] == sorted(b.met for b in bands)
    assert all(b.category == activity.category and b.has_distance and not b.pace_bands for b in bands)


@pytest.mark.parametrize(("generic", "band"), sorted(GENERIC.items()))
def test_a_generic_type_without_distance_scores_as_its_middle_band(generic: str, band: str) -> None:
    activity, middle = ACTIVITY_TYPES[generic], ACTIVITY_TYPES[band]
    assert band in {code for _, code in activity.pace_bands}
    assert (activity.compendium_code, activity.met) == (middle.compendium_code, middle.met)


def test_types_with_a_distance_have_a_speed_ceiling() -> None:
    for code, activity in ACTIVITY_TYPES.items():
        if activity.has_distance:
            assert activity.max_speed_kmh and activity.max_speed_kmh > 0, code
