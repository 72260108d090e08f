"""Typed SQLAlchemy 2.0 models of scoring."""

from __future__ import annotations
