"""Typed SQLAlchemy 2.0 models of challenges."""

from __future__ import annotations
