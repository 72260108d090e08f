"""Hostile activity files: DTDs and entities anywhere and in any encoding, too many points, corrupted FIT, values
out of range. Each is a 422 problem that says what is wrong, and nothing is stored."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from challenges.activities.files import BadActivityFile, FileSummary, read_activity_file
from challenges.activities.models import Activity
from tests.challenges.activity_files import fit, gpx, tcx, track
from tests.challenges.activity_helpers import ago, make_world

FIXTURES = Path(__file__).parents[1] / "fixtures"
COMMENT_17K = "<!--" + "padding " * 2125 + "-->"
PASSWD = '<!ENTITY xxe SYSTEM "file:///etc/passwd">'


def _laughs(levels: int) -> str:
    """Entity ``lol<levels>`` expands to 3 x 10**levels characters of 'lol'."""
    return '<!ENTITY lol0 "lol">' + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels + 1))


LAUGHS = _laughs(9)
"""The classic billion laughs: nine levels of ten, 3 GB of 'lol' from under 1 KB."""
SOME_LAUGHS = _laughs(5)
"""Five levels (300 KB of 'lol'): small enough for libexpat's own amplification limit to let it through."""


def _with_dtd(xml: bytes, subset: str, reference: str, *, before: str = "") -> str:
    """``xml`` with ``before`` and an internal DTD subset after its declaration, and ``reference`` used in it."""
    decl, rest = xml.decode().split("\n", 1)
    root = rest.split(" ", 1)[0].lstrip("<")
    rest = rest.replace("Morning run", reference, 1) if root == "gpx" else rest.replace("<Id>", "<Id>" + reference, 1)
    return f"{decl}\n{before}<!DOCTYPE {root} [{subset}]>{rest}"


def _utf16(text: str) -> bytes:
    return text.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")


def _stored(session: Any, user_id: int) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Activity).where(Activity.user_id == user_id)) or 0


def _upload(client: Any, headers: dict[str, str], data: bytes, name: str) -> Any:
    """Encoded in memory: for a body over 500 KB the test client's own encoder spools to a file it never closes."""
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), name)})
    return client.post("/api/v1/activities/import", data=body, headers=headers,
                       content_type=f"multipart/form-data; boundary={boundary}")


def _refused(resp: Any, slug: str, *words: str) -> None:
    assert resp.status_code == 422, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == "application/problem+json"
    assert resp.json["type"].endswith("/" + slug), resp.json
    assert all(word in resp.json["detail"] for word in words), resp.json["detail"]


def _gpx_now() -> bytes:
    return gpx(track(ago(hours=2), minutes=20))


def _tcx_now() -> bytes:
    return tcx(track(ago(hours=2), minutes=20))


HOSTILE = {
    "gpx, entities after a 17 KB comment": lambda: ("a.gpx", _with_dtd(_gpx_now(), SOME_LAUGHS, "&lol5;",
                                                                       before=COMMENT_17K).encode()),
    "tcx in UTF-16 with entities": lambda: ("a.tcx", _utf16(_with_dtd(_tcx_now(), SOME_LAUGHS, "&lol5;"))),
    "gpx, the classic billion laughs": lambda: ("a.gpx", _with_dtd(_gpx_now(), LAUGHS, "&lol9;").encode()),
    "gpx, billion laughs behind a comment": lambda: ("a.gpx", _with_dtd(_gpx_now(), SOME_LAUGHS, "&lol5;",
                                                                        before=COMMENT_17K).encode()),
    "gpx, an external entity": lambda: ("a.gpx", _with_dtd(_gpx_now(), PASSWD, "&xxe;", before=COMMENT_17K).encode()),
    "tcx in UTF-16, an external entity": lambda: ("a.tcx", _utf16(_with_dtd(_tcx_now(), PASSWD, "&xxe;"))),
    "gpx, an external DTD only": lambda: ("a.gpx", _gpx_now().replace(
        b"\n<gpx", b'\n<!DOCTYPE gpx SYSTEM "file:///etc/passwd"><gpx', 1)),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_file_with_a_dtd_or_entities_is_refused_wherever_they_are_and_nothing_is_stored(app, client, session, case):
    w = make_world(app, session)
    name, data = HOSTILE[case]()
    resp = _upload(client, w.h(w.users[0]), data, name)
    _refused(resp, "xml-dtd-refused", "DTD")
    assert "lol" * 10 not in resp.get_data(as_text=True) and "root:" not in resp.get_data(as_text=True)
    assert _stored(session, w.users[0].id) == 0


def test_a_utf16_tcx_without_a_dtd_is_still_read():
    summary = read_activity_file("a.tcx", _utf16(tcx(track(datetime(2026, 5, 4, 5, tzinfo=UTC), minutes=10)).decode()))
    assert (summary.format, summary.duration_s) == ("tcx", 600)


def test_a_10_mb_gpx_of_436k_untimed_points_is_refused_for_its_point_count_and_nothing_is_stored(app, client, session):
    w = make_world(app, session)
    points = "<trkpt lat='1' lon='2'/>" * 436_000
    data = f'<?xml version="1.0"?>\n<gpx version="1.1"><trk><trkseg>{points}</trkseg></trk></gpx>'.encode()
    assert len(data) <= app.extensions["vcc_settings"].import_max_bytes
    resp = _upload(client, w.h(w.users[0]), data, "huge.gpx")
    _refused(resp, "too-many-points", "50000", "ACTIVITY_IMPORT_MAX_POINTS")
    assert _stored(session, w.users[0].id) == 0


@pytest.mark.parametrize(("name", "build"), [("a.gpx", gpx), ("a.tcx", tcx), ("a.fit", fit)])
def test_every_format_is_held_to_the_deployments_point_limit(app, client, session, monkeypatch, name, build):
    w = make_world(app, session)
    monkeypatch.setitem(app.config, "ACTIVITY_IMPORT_MAX_POINTS", 200)
    pat = w.users[0]
    resp = _upload(client, w.h(pat), build(track(ago(hours=2), minutes=50, step_s=10)), name)  # 301 points
    _refused(resp, "too-many-points", "200")
    assert _stored(session, pat.id) == 0
    assert _upload(client, w.h(pat), build(track(ago(hours=2), minutes=30, step_s=10)), name).status_code == 201


FIT_RUN = (FIXTURES / "run_helsinki.fit").read_bytes()
GARBAGE_FIT = {
    "header only": FIT_RUN[:14],
    "header then noise": FIT_RUN[:14] + bytes(range(256)) * 4,
    "a definition message cut": FIT_RUN[:30],
    "a definition whose field sizes make arrays": FIT_RUN[:28] + b"\x00" + FIT_RUN[29:],
    "a position field size zeroed": FIT_RUN[:48] + b"\x00" + FIT_RUN[49:],
    "a distance field size zeroed": FIT_RUN[:54] + b"\x00" + FIT_RUN[55:],
    "noise named .fit": b"\x00\x01garbage that is not a FIT file at all" * 10,
}


@pytest.mark.parametrize("case", list(GARBAGE_FIT))
def test_a_truncated_or_garbage_fit_is_a_422_and_nothing_is_stored(app, client, session, case):
    w = make_world(app, session)
    resp = _upload(client, w.h(w.users[0]), GARBAGE_FIT[case], "garbage.fit")
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json", resp.get_data(as_text=True)
    assert "FIT" in resp.json["detail"]
    assert _stored(session, w.users[0].id) == 0


def _mutated(base: bytes) -> st.SearchStrategy[bytes]:
    edit = st.tuples(st.integers(0, len(base) - 1), st.sampled_from(["set", "cut", "insert"]),
                     st.binary(min_size=1, max_size=8))

    def apply(edits: list[tuple[int, str, bytes]]) -> bytes:
        out = bytearray(base)
        for at, how, blob in edits:
            at = min(at, len(out) - 1)
            if how == "set":
                out[at:at + len(blob)] = blob
            elif how == "cut":
                del out[at:at + len(blob)]
            else:
                out[at:at] = blob
        return bytes(out)

    return st.lists(edit, min_size=1, max_size=6).map(apply)


@pytest.mark.parametrize("name", ["run_helsinki.fit", "run_helsinki.gpx", "ride_helsinki.tcx"])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_corruption_of_a_file_is_either_read_or_refused_with_a_reason(name, data):
    corrupted = data.draw(_mutated((FIXTURES / name).read_bytes()))
    try:
        summary = read_activity_file(name, corrupted)
    except BadActivityFile as exc:
        assert exc.detail
    else:
        assert isinstance(summary, FileSummary) and summary.duration_s > 0
        assert summary.distance_m is None or 0 <= summary.distance_m < 1e9


def _two_point_gpx(first: str, second: str, lat: str = "60.1") -> bytes:
    return (f'<?xml version="1.0"?>\n<gpx version="1.1"><trk><trkseg><trkpt lat="{lat}" lon="24.9"><time>{first}'
            f'</time></trkpt><trkpt lat="60.2" lon="24.9"><time>{second}</time></trkpt></trkseg></trk></gpx>').encode()


@pytest.mark.parametrize(("data", "words"), [
    (_two_point_gpx("0001-01-01T00:00:00+05:00", "0001-01-01T01:00:00+05:00"), "time"),
    (_two_point_gpx("9999-12-31T23:00:00-05:00", "9999-12-31T23:30:00-05:00"), "time"),
    (_two_point_gpx("2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", lat="1e400"), "latitude"),
    (_two_point_gpx("2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", lat="nan"), "latitude"),
    (_two_point_gpx("2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", lat="500"), "latitude"),
])
def test_times_and_positions_out_of_range_are_refused_with_a_reason(data, words):
    with pytest.raises(BadActivityFile) as caught:
        read_activity_file("odd.gpx", data)
    assert words in caught.value.detail


def test_a_file_declaring_an_encoding_nobody_knows_is_refused_with_a_reason():
    """Found by the corruption property: one byte cut from 'UTF-8' made expat ask Python for 'TF-8' (LookupError)."""
    data = tcx(track(datetime(2026, 5, 4, 5, tzinfo=UTC), minutes=10)).replace(b'encoding="UTF-8"', b'encoding="TF-8"')
    with pytest.raises(BadActivityFile) as caught:
        read_activity_file("r.tcx", data)
    assert "unknown encoding" in caught.value.detail
