"""HTTP surface of standings: leaderboards, my progress, and the organiser report."""

from __future__ import annotations

from flask_smorest import Blueprint

blueprints: list[Blueprint] = []
