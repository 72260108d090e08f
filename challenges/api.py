"""HTTP surface of challenges: the challenge/enrolment/check-in resources and the activity resources."""

from __future__ import annotations

from flask_smorest import Blueprint

from challenges import exports  # noqa: F401  (connects the export sections)
from challenges.activities_api import blueprints as activity_blueprints
from challenges.badges_api import blueprints as badge_blueprints
from challenges.challenges_api import blueprints as challenge_blueprints

blueprints: list[Blueprint] = [*challenge_blueprints, *activity_blueprints, *badge_blueprints]
