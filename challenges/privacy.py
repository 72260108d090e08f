"""Who sees whom: the one visibility policy every read path of a challenge asks (boards, rosters, progress,
reports, exports, the dashboard).

Filled in by the privacy work of issue 14; the constants are the rules' anchors.
"""

from __future__ import annotations

from challenges.models import BoardVisibility, Setting

MIN_GROUP_SIZE = 10
"""Smallest team or organisation whose figures organisers of a workplace or school challenge see (wellbeing
vendors use 10; REPORT_MIN_GROUP_SIZE may raise it, never below service.config.GROUP_SIZE_FLOOR)."""

EMPLOYER_SETTINGS = frozenset({Setting.WORK, Setting.SCHOOL})
"""Where the organiser is the participants' employer or school: organisers see groups, never people."""

DEFAULT_BOARDS = {setting: (BoardVisibility.PARTICIPANTS if setting in EMPLOYER_SETTINGS else BoardVisibility.PUBLIC)
                  for setting in Setting}
