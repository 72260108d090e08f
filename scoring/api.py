"""HTTP surface of scoring (thin: parse, authorise, call logic, serialise)."""

from __future__ import annotations

from flask_smorest import Blueprint

blueprints: list[Blueprint] = []
