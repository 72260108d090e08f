"""Builders of small GPX, TCX and FIT activities for tests (start time, pace and length chosen by the test)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.challenges.fitencode import encode_fit

Point = tuple[datetime, float | None, float | None, float]


def track(start: datetime, *, minutes: int = 30, speed_ms: float = 3.0, step_s: int = 10, lat: float = 60.17,
          lon: float = 24.94, pause_at: int | None = None, pause_s: int = 0) -> list[Point]:
    """A straight northward track: (time, lat, lon, cumulative metres); an optional standing pause."""
    points: list[Point] = []
    metres_per_deg = 111_195.0
    at, dist = start, 0.0
    for i in range(minutes * 60 // step_s + 1):
        if i:
            at += timedelta(seconds=step_s)
            dist += speed_ms * step_s
        if pause_at is not None and i == pause_at:
            at += timedelta(seconds=pause_s)
        points.append((at, lat + dist / metres_per_deg, lon, dist))
    return points


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def gpx(points: list[Point], *, sport: str | None = "running", name: str = "Morning run") -> bytes:
    kind = f"<type>{sport}</type>" if sport else ""
    pts = "".join(f'<trkpt lat="{lat:.7f}" lon="{lon:.7f}"><ele>12.0</ele><time>{_iso(at)}</time></trkpt>'
                  for at, lat, lon, _ in points)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="vcc-tests" '
            f'xmlns="http://www.topografix.com/GPX/1/1"><trk><name>{name}</name>{kind}<trkseg>{pts}</trkseg>'
            f'</trk></gpx>\n').encode()


def tcx(points: list[Point], *, sport: str = "Biking") -> bytes:
    tps = "".join(
        f"<Trackpoint><Time>{_iso(at)}</Time>"
        + (f"<Position><LatitudeDegrees>{lat:.7f}</LatitudeDegrees><LongitudeDegrees>{lon:.7f}</LongitudeDegrees>"
           f"</Position>" if lat is not None and lon is not None else "")
        + f"<DistanceMeters>{dist:.1f}</DistanceMeters></Trackpoint>"
        for at, lat, lon, dist in points)
    total = (points[-1][0] - points[0][0]).total_seconds()
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<TrainingCenterDatabase '
            f'xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"><Activities>'
            f'<Activity Sport="{sport}"><Id>{_iso(points[0][0])}</Id><Lap StartTime="{_iso(points[0][0])}">'
            f"<TotalTimeSeconds>{total:.0f}</TotalTimeSeconds><DistanceMeters>{points[-1][3]:.1f}</DistanceMeters>"
            f"<Calories>100</Calories><Intensity>Active</Intensity><TriggerMethod>Manual</TriggerMethod>"
            f"<Track>{tps}</Track></Lap></Activity></Activities></TrainingCenterDatabase>\n").encode()


def fit(points: list[Point], *, sport: str = "running", **kwargs: bool) -> bytes:
    return encode_fit(points, sport=sport, **kwargs)
