"""The activity catalogue: types, their MET values from the 2024 Adult Compendium, intensity classes.

Source: Herrmann SD et al., "2024 Adult Compendium of Physical Activities: A third update of the energy
costs of human activities", J Sport Health Sci 2024;13:6-12 (pacompendium.com). ``compendium_code`` is the
Compendium's five-digit activity code and cites the row each MET value comes from. Every five-digit row
below was checked on 2026-12-03 against the 2024 table (code, MET and description; read from a row-by-row
text extraction of pacompendium.com's 1_2024-adult-compendium_1_2024.pdf). A type without an exact
Compendium activity carries the code of the closest one; where 2024 renumbered an activity the 2024 code
is used (aerobics 03015 -> 02000; snow shovelling, moderate 08202 -> 08195). tests/scoring/test_catalogue.py
pins every (code, MET) pair.
Wheelchair propulsion comes from the companion 2024 Wheelchair Compendium (Conger SA et al., J Sport Health
Sci 2024;13:22-28; marked ``WC``, no five-digit code); those two values are NOT verified yet (the wheelchair
table could not be consulted), see the comment on those rows.

Intensity classes follow the Compendium/WHO convention: light < 3 MET, moderate 3 to < 6, vigorous >= 6.
``max_speed_kmh`` is a plausibility ceiling for the average speed (challenges/ flags faster entries):
world-record marathon pace is about 21 km/h; an EU pedelec assists to 25 km/h; fast road cycling 45.

Generic types (``walking``, ``running``, ``cycling``) resolve to a pace band from distance and duration;
without a distance they use their own (middle) MET value.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from scoring.errors import UnknownActivityType


class Intensity(enum.StrEnum):
    NONE = "none"
    LIGHT = "light"
    MODERATE = "moderate"
    VIGOROUS = "vigorous"


def intensity_of(met: float) -> Intensity:
    if met <= 0:
        return Intensity.NONE
    if met < 3.0:
        return Intensity.LIGHT
    if met < 6.0:
        return Intensity.MODERATE
    return Intensity.VIGOROUS


@dataclass(frozen=True)
class ActivityType:
    code: str
    name: str
    compendium_code: str | None
    met: float
    category: str
    max_speed_kmh: float | None = None
    has_distance: bool = False
    has_steps: bool = False
    # (upper speed bound in km/h exclusive, type code) ascending; used by generic types only
    pace_bands: tuple[tuple[float, str], ...] = field(default=())

    @property
    def intensity(self) -> Intensity:
        return intensity_of(self.met)


MPH = 1.609344


def _t(code: str, name: str, comp: str | None, met: float, category: str, *, speed: float | None = None,
       distance: bool = False, steps: bool = False, bands: tuple[tuple[float, str], ...] = ()) -> ActivityType:
    return ActivityType(code, name, comp, met, category, speed, distance, steps, bands)


_WALK_BANDS = ((2.8 * MPH, "walking_slow"), (3.5 * MPH, "walking_moderate"), (4.0 * MPH, "walking_brisk"),
               (4.5 * MPH, "walking_very_brisk"), (float("inf"), "walking_fast"))
_RUN_BANDS = ((6.0 * MPH, "jogging"), (6.8 * MPH, "running_6mph"), (7.6 * MPH, "running_7mph"),
              (9.0 * MPH, "running_8mph"), (float("inf"), "running_10mph"))
_BIKE_BANDS = ((10 * MPH, "cycling_leisure"), (12 * MPH, "cycling_commute"), (14 * MPH, "cycling_12mph"),
               (16 * MPH, "cycling_14mph"), (float("inf"), "cycling_16mph"))

_TYPES: list[ActivityType] = [
    # walking (17xxx); speeds are mph ranges of the Compendium rows, ceilings for plausibility
    _t("walking", "Walking", "17200", 4.8, "walking", speed=10, distance=True, steps=True, bands=_WALK_BANDS),
    _t("walking_slow", "Walking, 2.5 mph", "17170", 3.0, "walking", speed=10, distance=True, steps=True),
    _t("walking_moderate", "Walking, 2.8-3.4 mph, level", "17190", 3.8, "walking", speed=10, distance=True,
       steps=True),
    _t("walking_brisk", "Walking, 3.5-3.9 mph, level, brisk", "17200", 4.8, "walking", speed=10, distance=True,
       steps=True),
    _t("walking_very_brisk", "Walking, 4.0-4.4 mph, level, very brisk", "17220", 5.5, "walking", speed=10,
       distance=True, steps=True),
    _t("walking_fast", "Walking, 4.5-4.9 mph, level, very fast", "17230", 7.0, "walking", speed=12,
       distance=True, steps=True),
    _t("hiking", "Hiking, cross country", "17080", 6.0, "walking", speed=10, distance=True, steps=True),
    _t("stairs", "Stair climbing, slow pace", "17133", 4.5, "walking", steps=True),
    # running (12xxx)
    _t("running", "Running", "12050", 9.3, "running", speed=25, distance=True, steps=True, bands=_RUN_BANDS),
    _t("jogging", "Jogging, general", "12020", 7.5, "running", speed=25, distance=True, steps=True),
    _t("running_6mph", "Running, 6-6.3 mph (10 min/mile)", "12050", 9.3, "running", speed=25, distance=True,
       steps=True),
    _t("running_7mph", "Running, 7 mph (8.5 min/mile)", "12070", 11.0, "running", speed=25, distance=True,
       steps=True),
    _t("running_8mph", "Running, 8 mph (7.5 min/mile)", "12090", 12.0, "running", speed=25, distance=True,
       steps=True),
    _t("running_10mph", "Running, 10 mph (6 min/mile)", "12120", 14.8, "running", speed=25, distance=True,
       steps=True),
    # bicycling (01xxx)
    _t("cycling", "Bicycling", "01011", 6.8, "cycling", speed=45, distance=True, bands=_BIKE_BANDS),
    _t("cycling_leisure", "Bicycling, < 10 mph, leisure", "01010", 4.0, "cycling", speed=45, distance=True),
    _t("cycling_commute", "Bicycling, to/from work, self-selected pace", "01011", 6.8, "cycling", speed=45,
       distance=True),
    _t("cycling_12mph", "Bicycling, 12-13.9 mph, moderate effort", "01030", 8.0, "cycling", speed=45,
       distance=True),
    _t("cycling_14mph", "Bicycling, 14-15.9 mph, vigorous effort", "01040", 10.0, "cycling", speed=45,
       distance=True),
    _t("cycling_16mph", "Bicycling, 16-19 mph, very fast", "01050", 12.0, "cycling", speed=50, distance=True),
    _t("ebike", "E-bike with light electronic support", "01084", 6.0, "cycling", speed=30, distance=True),
    _t("ebike_high_support", "E-bike with high electronic support", "01088", 4.0, "cycling", speed=30,
       distance=True),
    # water (18xxx)
    _t("swimming_leisure", "Swimming, leisurely, not lap swimming", "18310", 6.0, "water", speed=8,
       distance=True),
    _t("swimming_slow", "Swimming laps, freestyle, slow, light or moderate effort", "18240", 5.8, "water",
       speed=8, distance=True),
    _t("swimming_fast", "Swimming laps, freestyle, fast, vigorous effort", "18230", 9.8, "water", speed=8,
       distance=True),
    _t("kayaking", "Canoeing or kayaking, moderate effort", "18100", 5.0, "water", speed=15, distance=True),
    # sports (15xxx)
    _t("football", "Soccer, casual, general", "15610", 7.0, "team_sport"),
    _t("basketball", "Basketball, general", "15055", 7.5, "team_sport"),
    _t("volleyball", "Volleyball, non-competitive, general play", "15710", 4.0, "team_sport"),
    _t("floorball", "Floorball", "15205", 10.5, "team_sport"),  # 2024 has floorball itself (was 15360 ice hockey)
    _t("tennis", "Tennis, general, moderate effort", "15675", 6.8, "racket_sport"),
    _t("badminton", "Badminton, social singles and doubles", "15030", 5.5, "racket_sport"),
    # 17105 is "pushing a wheelchair"; 2024 splits Nordic walking by speed, 17304 = 3.6-4.4 mph, moderate pace
    _t("nordic_walking", "Nordic walking, 3.6-4.4 mph, moderate pace", "17304", 5.3, "walking", speed=10,
       distance=True, steps=True),
    _t("skiing_cross_country", "Skiing, cross country, moderate effort", "19090", 8.5, "winter", speed=30,
       distance=True),
    # conditioning exercise (02xxx) and dance (03xxx)
    _t("fitness_gym", "Resistance training, multiple exercises, 8-15 reps", "02054", 3.5, "fitness"),
    _t("circuit_training", "Circuit training, vigorous", "02040", 7.5, "fitness"),
    _t("aerobics", "Aerobic dance / class, general", "02000", 7.3, "fitness"),  # 2011 code 03015
    _t("yoga", "Yoga, Hatha", "02150", 2.3, "mind_body"),
    _t("pilates", "Pilates, general", "02105", 2.8, "mind_body"),  # 2.8 is light (was 3.0, moderate)
    _t("stretching", "Stretching, mild", "02101", 2.3, "mind_body"),
    _t("dancing", "Dancing, ethnic or cultural (e.g. salsa, swing, belly)", "03025", 4.5, "dance"),
    # home and garden (08xxx)
    _t("gardening", "Gardening, general, moderate effort", "08245", 3.8, "home"),
    _t("snow_shovelling", "Shovelling snow, by hand, moderate effort", "08195", 5.3, "home"),  # 08202 is vigorous
    # wheelchair propulsion (2024 Wheelchair Compendium). UNVERIFIED: 3.5 and 6.5 are kept as they were; the
    # Wheelchair Compendium table (its codes and METs) could not be consulted on 2026-12-03.
    _t("wheelchair", "Wheelchair propulsion, self-paced, outdoors", "WC", 3.5, "wheelchair", speed=20,
       distance=True),
    _t("wheelchair_sport", "Wheelchair basketball or racing", "WC", 6.5, "wheelchair", speed=35,
       distance=True),
]

CHECKIN = ActivityType("checkin", "Check-in at a location", None, 0.0, "checkin")

ACTIVITY_TYPES: dict[str, ActivityType] = {t.code: t for t in [*_TYPES, CHECKIN]}


def get_type(code: str) -> ActivityType:
    try:
        return ACTIVITY_TYPES[code]
    except KeyError:
        raise UnknownActivityType(f"unknown activity type {code!r}", type_code=code) from None


def resolve_pace(activity: ActivityType, distance_m: float | None, duration_s: int) -> ActivityType:
    """The pace band of a generic type for the average speed; the type itself when it has no bands."""
    if not activity.pace_bands or not distance_m or duration_s <= 0:
        return activity
    kmh = distance_m / 1000 / (duration_s / 3600)
    for upper, code in activity.pace_bands:
        if kmh < upper:
            return ACTIVITY_TYPES[code]
    return activity
