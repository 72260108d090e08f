"""Activity files (GPX, TCX, FIT) to one summary: start, duration, moving time, distance, sport.

Each format is read with its library (gpxpy, tcxreader, fitdecode) into the same list of track points, and
one function summarises every format the same way, so a ride gives the same figures whichever file it came in:

- distance: the sum of great-circle (haversine) steps between consecutive positions; where a point has no
  position (indoor, tunnel) the device's cumulative distance is used for that step; with no points at all
  (a FIT summary-only file) the file's session totals are used;
- duration: last timestamp minus first;
- moving time: the steps faster than ``STOPPED_SPEED_MS`` (1 km/h, gpxpy's default stopped-speed threshold).

Anything that is not a readable activity (empty, truncated, not XML, a route without times, a CRC error,
a DTD, a time or position out of range, more points than the deployment takes) raises ``BadActivityFile`` (422)
whose detail says what is wrong. Before a library reads a file, ``challenges.activities.screening`` refuses
DTDs (so entities) in GPX and TCX and counts the points of every format against the deployment's limit.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import math
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from challenges.activities.screening import (
    MAX_POINTS,
    BadActivityFile,
    TooManyPoints,
    count_fit_records,
    screen_xml,
)
from challenges.places.geo import haversine_m

STOPPED_SPEED_MS = 1000 / 3600
FIT_SEMICIRCLE_DEG = 180 / 2**31
SNIFF_BYTES = 4096
FORMATS = ("gpx", "tcx", "fit")


@dataclass(frozen=True)
class TrackPoint:
    at: datetime
    lat: float | None = None
    lon: float | None = None
    distance_m: float | None = None


@dataclass(frozen=True)
class FileSummary:
    format: str
    sport: str | None
    started_at: datetime
    duration_s: int
    moving_time_s: int
    distance_m: float | None
    points: int
    sha256: str


def _aware(at: datetime, fmt: str) -> datetime:
    """tcxreader and gpxpy hand back naive times for 'Z' stamps; every format's times are UTC."""
    try:
        return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    except OverflowError as exc:  # year 1 east of UTC, year 9999 west of it
        raise BadActivityFile(f"The {fmt.upper()} file has a point time out of range ({at.isoformat()}).") from exc


def _point(fmt: str, at: datetime | None, lat: float | None, lon: float | None,
           distance_m: float | None = None) -> TrackPoint:
    """One track point of any format, refused when a value cannot be a place or a distance on Earth (gpxpy and
    tcxreader read ``lat="1e400"`` as infinity and ``"nan"`` as NaN, which poison every sum after them)."""
    for name, value, bound in (("latitude", lat, 90), ("longitude", lon, 180)):
        if value is not None and not (math.isfinite(value) and -bound <= value <= bound):
            raise BadActivityFile(f"The {fmt.upper()} file has a point with {name} {value}, outside "
                                  f"-{bound}..{bound}.")
    if distance_m is not None and not (math.isfinite(distance_m) and distance_m >= 0):
        raise BadActivityFile(f"The {fmt.upper()} file has a point with distance {distance_m} m, which is not a "
                              "distance.")
    return TrackPoint(_aware(at, fmt) if at is not None else None, lat, lon, distance_m)  # type: ignore[arg-type]


def summarise(points: list[TrackPoint]) -> tuple[datetime, int, int, float | None]:
    """(start, duration_s, moving_time_s, distance_m) of time-ordered points, the same for every format."""
    points = sorted(points, key=lambda p: p.at)
    distance = 0.0
    measured = False
    moving = 0.0
    for prev, cur in itertools.pairwise(points):
        dt = (cur.at - prev.at).total_seconds()
        step: float | None = None
        if None not in (prev.lat, prev.lon, cur.lat, cur.lon):
            step = haversine_m(prev.lat, prev.lon, cur.lat, cur.lon)  # type: ignore[arg-type]
        elif prev.distance_m is not None and cur.distance_m is not None:
            step = max(0.0, cur.distance_m - prev.distance_m)
        if step is None:
            continue
        measured = True
        distance += step
        if dt > 0 and step / dt > STOPPED_SPEED_MS:
            moving += dt
    duration = (points[-1].at - points[0].at).total_seconds()
    return points[0].at, round(duration), round(moving), (round(distance, 1) if measured else None)


def sniff_format(filename: str | None, data: bytes) -> str:
    """The content decides (a .gpx that is really FIT is read as FIT); the extension only breaks ties."""
    if len(data) >= 12 and data[8:12] == b".FIT":
        return "fit"
    head = data[:SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<"):
        if b"<gpx" in head:
            return "gpx"
        if b"<trainingcenterdatabase" in head:
            return "tcx"
    ext = (filename or "").rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
    if ext in FORMATS:
        return ext
    raise BadActivityFile("The file is not GPX, TCX or FIT: its content matches none of them and its name has "
                          "no .gpx, .tcx or .fit extension.", code="unsupported-file-format")


def read_activity_file(filename: str | None, data: bytes, *, max_points: int = MAX_POINTS) -> FileSummary:
    """Parse ``data`` (named ``filename`` by the client) into one activity summary, or say what is wrong."""
    if not data or not data.strip():
        raise BadActivityFile("The file is empty.", code="empty-activity-file")
    fmt = sniff_format(filename, data)
    reader = {"gpx": _read_gpx, "tcx": _read_tcx, "fit": _read_fit}[fmt]
    sport, points, totals = reader(data, max_points)
    digest = hashlib.sha256(data).hexdigest()
    timed = [p for p in points if p.at is not None]
    if len(timed) >= 2:
        start, duration, moving, distance = summarise(timed)
        if duration <= 0:
            raise BadActivityFile(f"The {fmt.upper()} track's points all have the same time; it has no duration.")
        return FileSummary(fmt, sport, start, duration, moving, distance, len(timed), digest)
    if totals is not None:
        return FileSummary(fmt, sport, *totals, points=len(timed), sha256=digest)
    if points and not timed:
        raise BadActivityFile(f"The {fmt.upper()} file's points have no timestamps, so it describes a route, "
                              "not an activity that happened.")
    raise BadActivityFile(f"The {fmt.upper()} file holds fewer than two timed track points; there is no "
                          "activity to compute.", code="empty-activity-file")


Totals = tuple[datetime, int, int, float | None]


def _read_gpx(data: bytes, max_points: int) -> tuple[str | None, list[TrackPoint], Totals | None]:
    import gpxpy
    import gpxpy.gpx

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadActivityFile("The GPX file is not UTF-8 text.") from exc
    screen_xml("gpx", text, max_points)
    try:
        gpx = gpxpy.parse(text)
    except (gpxpy.gpx.GPXException, ValueError, OverflowError) as exc:
        raise BadActivityFile(f"The GPX file is not valid: {_first_line(exc)}") from exc
    points: list[TrackPoint] = []
    sport = None
    for track in gpx.tracks:
        sport = sport or (track.type or None)
        for segment in track.segments:
            points.extend(_point("gpx", p.time, p.latitude, p.longitude) for p in segment.points)
    if not points and gpx.routes:
        raise BadActivityFile("The GPX file holds only a planned route (<rte>), not a recorded track (<trk>).")
    return sport, points, None


def _read_tcx(data: bytes, max_points: int) -> tuple[str | None, list[TrackPoint], Totals | None]:
    import xml.etree.ElementTree as ET

    from tcxreader.tcxreader import TCXReader

    screen_xml("tcx", data, max_points)
    try:
        exercise = TCXReader().read(io.BytesIO(data), only_gps=False)  # type: ignore[arg-type]
    except ET.ParseError as exc:
        raise BadActivityFile(f"The TCX file is not well-formed XML: {exc}") from exc
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as exc:
        raise BadActivityFile(f"The TCX file is not a valid Training Center activity: {_first_line(exc)}") from exc
    points = [_point("tcx", tp.time, tp.latitude, tp.longitude, tp.distance)
              for tp in exercise.trackpoints or [] if tp.time is not None]
    return exercise.activity_type, points, None


FIT_LIBRARY_ERRORS = (AssertionError, struct.error, IndexError, TypeError, OverflowError, UnicodeDecodeError)
"""What fitdecode lets escape on a corrupted file that still passes its header check (it asserts on structure,
unpacks short buffers, and compares array fields as numbers) before the CRC at the end is reached."""


def _read_fit(data: bytes, max_points: int) -> tuple[str | None, list[TrackPoint], Totals | None]:
    import fitdecode

    points: list[TrackPoint] = []
    session: dict[str, Any] | None = None
    sport = None
    records = 0
    count_fit_records(data, max_points)
    try:
        with fitdecode.FitReader(io.BytesIO(data), check_crc=fitdecode.CrcCheck.RAISE,
                                 error_handling=fitdecode.ErrorHandling.RAISE) as reader:
            for frame in reader:
                if not isinstance(frame, fitdecode.FitDataMessage):
                    continue
                if frame.name == "record":
                    records += 1
                    if records > max_points:
                        raise TooManyPoints("fit", max_points)
                    point = _fit_point(frame)
                    if point is not None:
                        points.append(point)
                elif frame.name == "session" and session is None:
                    session = {f.name: f.value for f in frame.fields}
                    sport = session.get("sport")
                elif frame.name == "sport" and sport is None:
                    sport = _field(frame, "sport")
    except fitdecode.FitCRCError as exc:
        raise BadActivityFile("The FIT file fails its CRC check: it is truncated or corrupted.") from exc
    except fitdecode.FitHeaderError as exc:
        raise BadActivityFile(f"The FIT file header is not valid: {_first_line(exc)}") from exc
    except fitdecode.FitEOFError as exc:
        raise BadActivityFile("The FIT file ends early: it is truncated.") from exc
    except (fitdecode.FitError, ValueError, KeyError, *FIT_LIBRARY_ERRORS) as exc:
        raise BadActivityFile(f"The FIT file cannot be decoded: {_first_line(exc)}") from exc
    return (str(sport) if sport is not None else None), points, _fit_totals(session)


def _field(frame: Any, name: str) -> Any:
    return frame.get_value(name) if frame.has_field(name) else None


def _number(value: Any) -> float | None:
    """A FIT field as a number; a corrupted definition can make it a tuple (an array field) or text."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _fit_point(frame: Any) -> TrackPoint | None:
    at = _field(frame, "timestamp")
    if not isinstance(at, datetime):
        return None
    lat, lon = _number(_field(frame, "position_lat")), _number(_field(frame, "position_long"))
    if lat is None or lon is None:
        lat = lon = None
    else:
        lat, lon = lat * FIT_SEMICIRCLE_DEG, lon * FIT_SEMICIRCLE_DEG
    return _point("fit", at, lat, lon, _number(_field(frame, "distance")))


def _fit_totals(session: dict[str, Any] | None) -> Totals | None:
    """A summary-only FIT file (no records) still says when, how long and how far."""
    if not session or not isinstance(session.get("start_time"), datetime):
        return None
    elapsed = _number(session.get("total_elapsed_time"))
    if not elapsed or not math.isfinite(elapsed) or elapsed < 0:
        return None
    timer = _number(session.get("total_timer_time"))
    if timer is None or not 0 < timer <= elapsed:  # also NaN
        timer = elapsed
    start = _point("fit", session["start_time"], None, None, _number(session.get("total_distance")))
    return start.at, round(elapsed), round(timer), start.distance_m


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


SPORTS: dict[str, str] = {
    "running": "running", "run": "running", "trailrunning": "running", "treadmillrunning": "running",
    "cycling": "cycling", "biking": "cycling", "bike": "cycling", "ride": "cycling", "roadbiking": "cycling",
    "mountainbiking": "cycling", "ebiking": "ebike", "ebikeride": "ebike", "walking": "walking", "walk": "walking",
    "hiking": "hiking", "hike": "hiking", "swimming": "swimming_slow", "crosscountryskiing": "skiing_cross_country",
    "nordicski": "skiing_cross_country", "kayaking": "kayaking", "paddling": "kayaking", "rowing": "kayaking",
    "wheelchair": "wheelchair", "nordicwalking": "nordic_walking",
}
"""Sport names as GPX ``<type>``, TCX ``Sport`` and FIT ``sport`` write them (lower-cased, letters only)."""


def type_for_sport(sport: str | None) -> str | None:
    if not sport:
        return None
    return SPORTS.get("".join(ch for ch in sport.lower() if ch.isalpha()))
