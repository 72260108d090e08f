"""Localised nudge texts from the gettext catalogues (service.i18n), in the user's language and time zone.

Each kind has three texts: ``title`` and ``push`` go to the device and stay generic on purpose (a lock
screen is public: no minutes, steps, ranks or other health data), ``inbox`` is the detail shown inside
the app. Parameters are plain values stored with the nudge, so an old nudge renders with today's
catalogue; a missing one is shown empty. Whole sentences are messages (no sentence built from pieces
except the two counts of the weekly summary), so each language can order and inflect them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from notifications.models import NudgeKind
from service.i18n import LANGUAGES, SOURCE_LANGUAGE, Translator, match, translator

FALLBACK = SOURCE_LANGUAGE


@dataclass(frozen=True)
class Rendered:
    title: str
    push: str
    inbox: str


Texts = tuple[str, str, str]


def languages() -> list[str]:
    return sorted(LANGUAGES)


def language_for(locale: str | None) -> str:
    """``nl-BE`` / ``nl_BE`` / ``NL`` -> ``nl`` when we have Dutch, else English."""
    return match(locale) or FALLBACK


def _starting(tr: Translator, v: dict[str, Any]) -> Texts:
    return (tr.pgettext("nudge title", "{challenge} starts tomorrow", **v),
            tr.pgettext("nudge push", "Get ready: {challenge} starts tomorrow.", **v),
            tr.pgettext("nudge inbox", "{challenge} starts tomorrow at {starts_time}. "
                                       "Every active minute counts from the start.", **v))


def _started(tr: Translator, v: dict[str, Any]) -> Texts:
    return (tr.pgettext("nudge title", "{challenge} has started", **v),
            tr.pgettext("nudge push", "{challenge} is on. Log your first activity today!", **v),
            tr.pgettext("nudge inbox", "{challenge} has started and runs until {ends_local}. Good luck!", **v))


def _ending(tr: Translator, v: dict[str, Any]) -> Texts:
    return (tr.pgettext("nudge title", "{challenge} ends soon", **v),
            tr.pgettext("nudge push", "Last days of {challenge}: make them count.", **v),
            tr.pgettext("nudge inbox", "{challenge} ends on {ends_local}. Activities can be added until then.", **v))


def _result(tr: Translator, v: dict[str, Any]) -> Texts:
    return (tr.pgettext("nudge title", "Results of {challenge}", **v),
            tr.pgettext("nudge push", "The final standings of {challenge} are in.", **v),
            tr.pgettext("nudge inbox", "{challenge} has ended. You finished #{rank} of {participants}. "
                                       "Thank you for taking part!", **v))


def _inactive(tr: Translator, v: dict[str, Any]) -> Texts:
    return (tr.pgettext("nudge title", "We miss you in {challenge}", **v),
            tr.pgettext("nudge push", "A short walk today keeps you in the game.", **v),
            tr.npgettext("nudge inbox",
                         "You have not logged any activity in {challenge} for {days} day. Even ten minutes count.",
                         "You have not logged any activity in {challenge} for {days} days. Even ten minutes count.",
                         _count(v, "days"), **v))


def _streak(tr: Translator, v: dict[str, Any]) -> Texts:
    return (tr.pgettext("nudge title", "Keep your streak", **v),
            tr.pgettext("nudge push", "Your streak is waiting for today's activity.", **v),
            tr.npgettext("nudge inbox",
                         "Your {streak}-day streak in {challenge} ends at midnight unless you are active today.",
                         "Your {streak}-day streak in {challenge} ends at midnight unless you are active today.",
                         _count(v, "streak"), **v))


def _overtaken(tr: Translator, v: dict[str, Any]) -> Texts:
    if v.get("scope") == "team":
        inbox = tr.pgettext("nudge inbox", "You are now #{rank} on the {challenge} leaderboard (teams). "
                                           "Time to catch up?", **v)
    else:
        inbox = tr.pgettext("nudge inbox", "You are now #{rank} on the {challenge} leaderboard (participants). "
                                           "Time to catch up?", **v)
    return (tr.pgettext("nudge title", "You were overtaken", **v),
            tr.pgettext("nudge push", "Someone passed you on the {challenge} leaderboard.", **v), inbox)


def _milestone(tr: Translator, v: dict[str, Any]) -> Texts:
    percent = tr.percent(_count(v, "percent") / 100)
    return (tr.pgettext("nudge title", "Milestone reached", **v),
            tr.pgettext("nudge push", "You reached a milestone in {challenge}!", **v),
            tr.pgettext("nudge inbox", "You have reached {percent} of your goal in {challenge}.",
                        **{**v, "percent": percent}))


def _badge(tr: Translator, v: dict[str, Any]) -> Texts:
    if v.get("challenge"):
        inbox = tr.pgettext("nudge inbox", "You earned the badge “{badge}” in {challenge}.", **v)
    else:
        inbox = tr.pgettext("nudge inbox", "You earned the badge “{badge}”.", **v)
    return (tr.pgettext("nudge title", "New badge: {badge}", **v),
            tr.pgettext("nudge push", "You earned a new badge. Open the app to see it.", **v), inbox)


def _weekly(tr: Translator, v: dict[str, Any]) -> Texts:
    points = tr.ngettext("{points} point", "{points} points", _count(v, "points"), **v)
    days = tr.ngettext("{active_days} active day", "{active_days} active days", _count(v, "active_days"), **v)
    # TRANSLATORS: points is "220 points", active_days is "4 active days"
    inbox = tr.pgettext("nudge inbox", "Last week in {challenge}: {points} on {active_days}. Your rank: #{rank}.",
                        **{**v, "points": points, "active_days": days})
    return (tr.pgettext("nudge title", "Your week in {challenge}", **v),
            tr.pgettext("nudge push", "Your weekly summary is ready.", **v), inbox)


def _goal(tr: Translator, v: dict[str, Any]) -> Texts:
    title = tr.pgettext("nudge title", "Goal reached in {challenge}", **v)
    if v.get("team"):
        return (title, tr.pgettext("nudge push", "{team} reached the goal of {challenge}!", **v),
                tr.pgettext("nudge inbox", "{team} reached the goal of {challenge}. "
                                           "Thank you for your part in it!", **v))
    if v.get("collective"):
        return (title, tr.pgettext("nudge push", "Together you reached the goal of {challenge}!", **v),
                tr.pgettext("nudge inbox", "Together you reached the goal of {challenge}. "
                                           "Thank you for your part in it!", **v))
    return (title, tr.pgettext("nudge push", "Your team reached the goal of {challenge}!", **v),
            tr.pgettext("nudge inbox", "Your team reached the goal of {challenge}. "
                                       "Thank you for your part in it!", **v))


def _announcement(tr: Translator, v: dict[str, Any]) -> Texts:
    # TRANSLATORS: an organiser's announcement: the challenge's title, then the announcement's own title
    return tr.pgettext("nudge title", "{challenge}: {headline}", **v), str(v.get("headline") or ""), \
        str(v.get("text") or "")


KINDS: dict[NudgeKind, Callable[[Translator, dict[str, Any]], Texts]] = {
    NudgeKind.CHALLENGE_STARTING: _starting, NudgeKind.CHALLENGE_STARTED: _started,
    NudgeKind.CHALLENGE_ENDING: _ending, NudgeKind.CHALLENGE_RESULT: _result, NudgeKind.INACTIVE: _inactive,
    NudgeKind.STREAK_AT_RISK: _streak, NudgeKind.OVERTAKEN: _overtaken, NudgeKind.MILESTONE: _milestone,
    NudgeKind.BADGE_EARNED: _badge, NudgeKind.WEEKLY_SUMMARY: _weekly, NudgeKind.GOAL_REACHED: _goal,
    NudgeKind.ANNOUNCEMENT: _announcement,
}


def _count(values: dict[str, Any], name: str) -> float:
    value = values.get(name)
    return value if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _moment(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def render(kind: NudgeKind | str, locale: str | None, params: dict[str, Any], tz: str = "UTC") -> Rendered:
    tr = translator(locale, tz)
    values = {k: v for k, v in params.items() if v is not None}
    if starts := _moment(params.get("starts_at")):
        values["starts_time"] = tr.time(starts)
    if ends := _moment(params.get("ends_at")):
        values["ends_local"] = tr.datetime(ends)
    texts = KINDS[NudgeKind(kind)](tr, values)
    return Rendered(*(text.strip() for text in texts))


SAMPLE: dict[str, Any] = {"challenge": "Move in May", "starts_at": "2026-05-01T07:00:00+00:00",
                          "ends_at": "2026-05-31T21:59:00+00:00", "rank": 2, "participants": 120, "days": 4,
                          "streak": 5, "percent": 50, "badge": "Early bird", "points": 220, "active_days": 4,
                          "headline": "Meet at the fountain", "text": "Saturday 10:00."}


def catalogue(language: str, params: dict[str, Any] | None = None) -> dict[str, dict[str, str]]:
    """Every kind's three texts in one language, filled with sample values: what a translator or an organiser
    reads to see the nudges as people get them."""
    return {kind.value: asdict(render(kind, language, params or SAMPLE, "Europe/Amsterdam")) for kind in NudgeKind}
