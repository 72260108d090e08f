"""A tiny FIT encoder for tests: fitdecode only decodes, and no FIT writer is installed.

Writes a valid FIT 2.0 activity (14-byte header with its CRC, definition + data messages for file_id,
record and session, and the trailing file CRC) following the FIT protocol description in the Garmin FIT SDK
(developer.garmin.com/fit/protocol). Only the few fields the importer reads are written.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime

from fitdecode.utils import compute_crc

FIT_EPOCH = datetime(1989, 12, 31, tzinfo=UTC)
SEMICIRCLES = 2**31 / 180
SPORTS = {"generic": 0, "running": 1, "cycling": 2, "swimming": 5, "walking": 11, "hiking": 17}

# (field number, size, base type) ; base types: 0x00 enum, 0x85 sint32, 0x86 uint32, 0x84 uint16
FILE_ID = (0, [(0, 1, 0x00), (1, 2, 0x84), (4, 4, 0x86)])
RECORD = (20, [(253, 4, 0x86), (0, 4, 0x85), (1, 4, 0x85), (5, 4, 0x86)])
RECORD_NO_POS = (20, [(253, 4, 0x86), (5, 4, 0x86)])
SESSION = (18, [(253, 4, 0x86), (2, 4, 0x86), (7, 4, 0x86), (8, 4, 0x86), (9, 4, 0x86), (5, 1, 0x00)])
FORMATS = {0x00: "B", 0x84: "H", 0x85: "i", 0x86: "I"}


def _ts(at: datetime) -> int:
    return int((at - FIT_EPOCH).total_seconds())


def _definition(local: int, message: tuple[int, list[tuple[int, int, int]]]) -> bytes:
    number, fields = message
    out = struct.pack("<BBBHB", 0x40 | local, 0, 0, number, len(fields))
    return out + b"".join(struct.pack("<BBB", *f) for f in fields)


def _data(local: int, message: tuple[int, list[tuple[int, int, int]]], values: list[int]) -> bytes:
    fmt = "<B" + "".join(FORMATS[base] for _, _, base in message[1])
    return struct.pack(fmt, local, *values)


def encode_fit(points: list[tuple[datetime, float | None, float | None, float]], *, sport: str = "running",
               session: bool = True, records: bool = True) -> bytes:
    """A FIT activity from (time, lat, lon, cumulative distance m) points; lat/lon None = indoor record."""
    body = _definition(0, FILE_ID) + _data(0, FILE_ID, [4, 255, 12345])
    if records:
        body += _definition(1, RECORD) + _definition(2, RECORD_NO_POS)
        for at, lat, lon, dist in points:
            if lat is None or lon is None:
                body += _data(2, RECORD_NO_POS, [_ts(at), round(dist * 100)])
            else:
                body += _data(1, RECORD, [_ts(at), round(lat * SEMICIRCLES), round(lon * SEMICIRCLES),
                                          round(dist * 100)])
    if session and points:
        start, end = points[0][0], points[-1][0]
        elapsed = round((end - start).total_seconds() * 1000)
        body += _definition(3, SESSION) + _data(3, SESSION, [
            _ts(end), _ts(start), elapsed, elapsed, round(points[-1][3] * 100), SPORTS[sport]])
    header = struct.pack("<BBHI4s", 14, 0x20, 2132, len(body), b".FIT")
    header += struct.pack("<H", compute_crc(header))
    data = header + body
    return data + struct.pack("<H", compute_crc(data))
