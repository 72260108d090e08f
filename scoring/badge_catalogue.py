"""Built-in badge definitions, as data. Organisers may add more rows to badge_definitions.

Criteria kinds (scoring.badges.CHECKS): total_at_least {points}; streak {length, threshold, unit};
first_activity {}; checkin_locations {count}; top_n_finish {n} (only with context final=True);
collective_goal {goal, scope: contest|team}; who_weeks {weeks, weekly_points}.
``weekly_points`` is the WHO weekly goal in the contest's unit: 150 active minutes (a vigorous minute
counting double) or 600 MET-minutes (WHO 2020).
"""

from __future__ import annotations

from typing import Any

BUILTIN: list[dict[str, Any]] = [
    {"code": "first-move", "name": "First move", "description": "Logged a first activity in the challenge.",
     "criteria": {"kind": "first_activity"}},
    {"code": "points-500", "name": "500 club", "description": "Reached 500 points in a challenge.",
     "criteria": {"kind": "total_at_least", "points": 500}},
    {"code": "streak-7", "name": "Seven in a row", "description": "Active on seven days in a row.",
     "criteria": {"kind": "streak", "length": 7, "threshold": 1, "unit": "day"}},
    {"code": "explorer-5", "name": "Explorer", "description": "Checked in at five different locations.",
     "criteria": {"kind": "checkin_locations", "count": 5}},
    {"code": "podium", "name": "Podium", "description": "Finished a challenge in the top three.",
     "criteria": {"kind": "top_n_finish", "n": 3}},
    {"code": "team-goal", "name": "Team player", "description": "Your team reached the challenge goal.",
     "criteria": {"kind": "collective_goal", "scope": "team"}},
    {"code": "who-4-weeks", "name": "WHO month", "description": "Met the WHO weekly activity goal in four weeks.",
     "criteria": {"kind": "who_weeks", "weeks": 4, "weekly_points": 150}},
]
