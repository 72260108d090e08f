"""Localised nudge texts: one JSON file per language in ``locales/``, the user's locale with English fallback.

Each kind has three texts: ``title`` and ``push`` go to the device and stay generic on purpose (a lock
screen is public: no minutes, steps, ranks or other health data), ``inbox`` is the detail shown inside
the app. Parameters are plain values stored with the nudge; times are formatted in the user's zone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from notifications.models import NudgeKind
from service.clock import zone

LOCALES_DIR = Path(__file__).with_name("locales")
FALLBACK = "en"


@dataclass(frozen=True)
class Rendered:
    title: str
    push: str
    inbox: str


@cache
def catalogue(language: str) -> dict[str, dict[str, str]]:
    path = LOCALES_DIR / f"{language}.json"
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def languages() -> list[str]:
    return sorted(p.stem for p in LOCALES_DIR.glob("*.json"))


def language_for(locale: str | None) -> str:
    """``nl-BE`` / ``nl_BE`` / ``NL`` -> ``nl`` when we have Dutch, else English."""
    lang = (locale or FALLBACK).replace("_", "-").split("-")[0].lower()
    return lang if catalogue(lang) else FALLBACK


class _Params(dict):
    def __missing__(self, key: str) -> str:
        return ""


def _text(lang: str, kind: str, part: str) -> str:
    return catalogue(lang).get(kind, {}).get(part) or catalogue(FALLBACK)[kind][part]


def _word(lang: str, name: str) -> str:
    return catalogue(lang).get("_words", {}).get(name) or catalogue(FALLBACK)["_words"][name]


def _local(value: Any, tz: str) -> str:
    if not value:
        return ""
    moment = datetime.fromisoformat(str(value)).astimezone(zone(tz))
    return moment.strftime("%Y-%m-%d %H:%M")


def render(kind: NudgeKind | str, locale: str | None, params: dict[str, Any], tz: str = "UTC") -> Rendered:
    lang = language_for(locale)
    kind = NudgeKind(kind).value
    values = _Params({k: v for k, v in params.items() if v is not None})
    values["starts_local"] = _local(params.get("starts_at"), tz)
    values["ends_local"] = _local(params.get("ends_at"), tz)
    if not values.get("team"):
        values["team"] = _word(lang, "everyone" if params.get("collective") else "your_team")
    values["board"] = _word(lang, "board_team" if params.get("scope") == "team" else "board_user")
    values["challenge_suffix"] = (_word(lang, "in_challenge").format_map(values)
                                  if params.get("challenge") else "")
    return Rendered(*(_text(lang, kind, part).format_map(values).strip() for part in ("title", "push", "inbox")))
