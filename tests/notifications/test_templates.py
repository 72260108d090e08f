"""Nudge texts from the catalogues: every kind in every language, plurals, dates and numbers per locale in
the user's zone, and a lock screen that never shows a figure."""

from __future__ import annotations

import re
from typing import Any

import pytest

from notifications.models import NudgeKind
from notifications.templates import SAMPLE, catalogue, render
from service.i18n import LANGUAGES

FIGURES = {"challenge": "Stadswandeling", "rank": 37, "participants": 4821, "days": 6, "streak": 9, "percent": 50,
           "points": 1234, "active_days": 3, "badge": "Early bird", "headline": "Meet at the fountain",
           "text": "Saturday at ten.", "starts_at": "2026-05-01T07:00:00+00:00",
           "ends_at": "2026-05-31T21:59:00+00:00"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_kind_has_three_texts_in_every_language_and_they_are_its_own(language: str) -> None:
    texts = catalogue(language)
    english = catalogue("en")
    assert set(texts) == {kind.value for kind in NudgeKind}
    assert all(all(t.values()) for t in texts.values())
    if language != "en":
        assert [k for k, t in texts.items() if t["inbox"] == english[k]["inbox"] and k != "announcement"] == []


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", list(NudgeKind))
def test_the_lock_screen_shows_no_figure_in_any_language(language: str, kind: NudgeKind) -> None:
    text = render(kind, language, FIGURES, "Europe/Amsterdam")
    assert re.search(r"\d", text.title + text.push) is None, (text.title, text.push)


@pytest.mark.parametrize(("language", "one", "six"), [
    ("en", "for 1 day.", "for 6 days."),
    ("nl", "al 1 dag geen", "al 6 dagen geen"),
    ("fi", "1 päivään", "6 päivään"),
    ("es", "Llevas 1 día sin", "Llevas 6 días sin")])
def test_inactive_days_take_the_plural_form_of_their_count(language: str, one: str, six: str) -> None:
    assert one in render(NudgeKind.INACTIVE, language, {**FIGURES, "days": 1}).inbox
    assert six in render(NudgeKind.INACTIVE, language, FIGURES).inbox


def test_a_one_day_streak_is_one_day_and_not_one_days() -> None:
    assert "reeks van 1 dag in" in render(NudgeKind.STREAK_AT_RISK, "nl", {**FIGURES, "streak": 1}).inbox
    assert "racha de 1 día en" in render(NudgeKind.STREAK_AT_RISK, "es", {**FIGURES, "streak": 1}).inbox
    assert "Your 1-day streak" in render(NudgeKind.STREAK_AT_RISK, "en", {**FIGURES, "streak": 1}).inbox


@pytest.mark.parametrize(("language", "summary"), [
    ("en", "Last week in Stadswandeling: 1,234 points on 1 active day. Your rank: #37."),
    ("nl", "Vorige week in Stadswandeling: 1.234 punten op 1 actieve dag. Jouw positie: #37."),
    ("fi", "Viime viikko haasteessa Stadswandeling: 1\xa0234 pistettä, 1 aktiivinen päivä. Sijoituksesi: 37."),
    ("es", "La semana pasada en Stadswandeling: 1.234 puntos en 1 día activo. Tu puesto: 37.")])
def test_the_weekly_summary_counts_points_and_days_in_the_words_and_digits_of_each_language(
        language: str, summary: str) -> None:
    assert render(NudgeKind.WEEKLY_SUMMARY, language, {**FIGURES, "active_days": 1}).inbox == summary


def test_end_dates_are_written_per_language_in_the_users_zone() -> None:
    def ends(language: str, tz: str) -> str:
        return render(NudgeKind.CHALLENGE_ENDING, language, FIGURES, tz).inbox

    assert ends("en", "Europe/Amsterdam").startswith("Stadswandeling ends on May 31, 2026 at 11:59\u202fPM.")
    assert ends("nl", "Europe/Amsterdam").startswith("Stadswandeling eindigt op 31 mei 2026 om 23:59.")
    assert ends("fi", "Europe/Helsinki").startswith("Stadswandeling päättyy 1. kesäkuuta 2026 klo 0.59.")
    assert ends("es", "America/New_York").startswith("Stadswandeling termina el 31 de mayo de 2026 a las 17:59.")


def test_the_start_time_is_the_local_time_of_day() -> None:
    assert "starts tomorrow at 9:00\u202fAM." in render(NudgeKind.CHALLENGE_STARTING, "en", FIGURES,
                                                         "Europe/Amsterdam").inbox
    assert "alkaa huomenna klo 10.00." in render(NudgeKind.CHALLENGE_STARTING, "fi", FIGURES,
                                                 "Europe/Helsinki").inbox


def test_percentages_are_written_per_language() -> None:
    assert "reached 50% of your goal" in render(NudgeKind.MILESTONE, "en", FIGURES).inbox
    assert "saavuttanut 50\xa0% tavoitteestasi" in render(NudgeKind.MILESTONE, "fi", FIGURES).inbox


@pytest.mark.parametrize(("params", "push"), [
    ({"team": "Blue"}, "¡Blue ha alcanzado el objetivo de Stadswandeling!"),
    ({"collective": True}, "¡Objetivo de Stadswandeling alcanzado entre todos!"),
    ({}, "¡Tu equipo ha alcanzado el objetivo de Stadswandeling!")])
def test_a_reached_goal_is_told_as_a_whole_sentence_for_a_team_everyone_or_your_team(
        params: dict[str, Any], push: str) -> None:
    assert render(NudgeKind.GOAL_REACHED, "es", {"challenge": "Stadswandeling", **params}).push == push


def test_the_board_and_the_badges_challenge_are_part_of_the_sentence() -> None:
    assert "(joukkueet)" in render(NudgeKind.OVERTAKEN, "fi", {**FIGURES, "scope": "team"}).inbox
    assert "(deelnemers)" in render(NudgeKind.OVERTAKEN, "nl", {**FIGURES, "scope": "user"}).inbox
    assert render(NudgeKind.BADGE_EARNED, "es", {"badge": "Madrugador"}).inbox == "Has ganado la insignia «Madrugador»."
    assert render(NudgeKind.BADGE_EARNED, "en", FIGURES).inbox == "You earned the badge “Early bird” in Stadswandeling."


@pytest.mark.parametrize("kind", list(NudgeKind))
def test_a_nudge_stored_without_its_values_still_renders(kind: NudgeKind) -> None:
    for language in LANGUAGES:
        text = render(kind, language, {"starts_at": "not a date", "days": "x", "challenge": None})
        assert text.title or kind is NudgeKind.ANNOUNCEMENT


def test_an_announcement_carries_the_organisers_own_words_untouched() -> None:
    text = render(NudgeKind.ANNOUNCEMENT, "fi", {**SAMPLE, "headline": "{oops} 100%", "text": "Bring {water}."})
    assert (text.title, text.push, text.inbox) == ("Move in May: {oops} 100%", "{oops} 100%", "Bring {water}.")
