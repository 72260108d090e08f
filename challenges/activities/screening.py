"""Cheap first passes over an uploaded activity file, before a library reads it in full.

- XML (GPX, TCX) is parsed once by defusedxml, which refuses a DTD outright, wherever it stands (a 17 KB
  comment before it hid it from the old byte search) and in whatever encoding the file declares (UTF-16 too):
  without a DTD there is no entity to expand and no external one to fetch. The pass builds no tree.
- Points are counted against the deployment's limit (``ACTIVITY_IMPORT_MAX_POINTS``) in the same pass, and for
  FIT by walking the record headers without decoding a field, so an oversized file is refused in a fraction of
  a second instead of after gpxpy, tcxreader or fitdecode spent 50-100 microseconds on each of its points.
"""

from __future__ import annotations

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from service.errors import Unprocessable

MAX_POINTS = 50_000
"""Default of ``ACTIVITY_IMPORT_MAX_POINTS``: about 14 hours recorded once a second."""
XML_CHUNK = 64 * 1024
POINT_TAGS = frozenset({"trkpt", "rtept", "wpt", "Trackpoint"})
FIT_RECORD = 20
"""The global message number of a FIT ``record`` message (one track point)."""


class BadActivityFile(Unprocessable):
    code = "bad-activity-file"
    title = "The activity file cannot be read"


class TooManyPoints(BadActivityFile):
    code = "too-many-points"
    title = "The activity file holds too many points"

    def __init__(self, fmt: str, limit: int) -> None:
        super().__init__(f"The {fmt.upper()} file holds more than {limit} points, more than this service reads from "
                         "one file (ACTIVITY_IMPORT_MAX_POINTS); record with a longer interval or split the "
                         "activity.", limit=limit)


class _PointCounter:
    """The target of the screening parse: it builds no tree, only counts points, and stops the parse past the
    limit (an exception raised in an expat handler ends the parse there)."""

    def __init__(self, fmt: str, limit: int) -> None:
        self.fmt, self.limit, self.points = fmt, limit, 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if tag.rpartition("}")[2] in POINT_TAGS:
            self.points += 1
            if self.points > self.limit:
                raise TooManyPoints(self.fmt, self.limit)

    def close(self) -> int:
        return self.points


def screen_xml(fmt: str, document: bytes | str, max_points: int) -> None:
    """Parse ``document`` exactly as its reader will (bytes for tcxreader, which lets expat detect the encoding;
    text for gpxpy) with defusedxml forbidding DTDs, entities and external references, counting points."""
    parser = DefusedXMLParser(target=_PointCounter(fmt, max_points), forbid_dtd=True)
    try:
        for at in range(0, len(document), XML_CHUNK):
            parser.feed(document[at:at + XML_CHUNK])
        parser.close()
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as exc:
        raise BadActivityFile(f"The {fmt.upper()} file declares a DTD (<!DOCTYPE>); DTDs, and with them entity "
                              "declarations and external references, are not accepted in activity files.",
                              code="xml-dtd-refused") from exc
    except ParseError as exc:
        raise BadActivityFile(f"The {fmt.upper()} file is not valid: it is not well-formed XML ({exc}).") from exc
    except LookupError as exc:  # expat asks Python's codecs for an encoding it does not know itself
        raise BadActivityFile(f"The {fmt.upper()} file is not valid: it declares an {exc}.") from exc


def count_fit_records(data: bytes, limit: int) -> None:
    """Refuse a FIT file with more than ``limit`` record messages, found by walking the record headers and
    definitions alone. Where the structure breaks the walk just stops: decoding that file, and saying what is
    wrong with it, is fitdecode's job (which also counts, as a backstop)."""
    records, at = 0, 0
    while at + 12 <= len(data) and data[at] >= 12 and data[at + 8:at + 12] == b".FIT":  # chained files follow
        end = min(at + data[at] + int.from_bytes(data[at + 4:at + 8], "little"), len(data))
        at += data[at]
        layouts: dict[int, tuple[int, int]] = {}  # local message type -> (global message number, data size)
        while at < end:
            head = data[at]
            at += 1
            if not head & 0x80 and head & 0x40:  # a definition message
                fields = data[at + 4] if at + 4 < end else 0
                number = int.from_bytes(data[at + 2:at + 4], "big" if data[at + 1:at + 2] == b"\x01" else "little")
                size, at = sum(data[at + 6:at + 5 + 3 * fields:3]), at + 5 + 3 * fields
                if head & 0x20 and at < end:  # developer fields
                    size, at = size + sum(data[at + 2:at + 1 + 3 * data[at]:3]), at + 1 + 3 * data[at]
                layouts[head & 0x0F] = (number, size)
                continue
            layout = layouts.get((head >> 5) & 0x03 if head & 0x80 else head & 0x0F)
            if layout is None:
                return
            if layout[0] == FIT_RECORD:
                records += 1
                if records > limit:
                    raise TooManyPoints("fit", limit)
            at += layout[1]
        at = end + 2  # the file's CRC
