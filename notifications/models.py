"""Typed SQLAlchemy 2.0 models of notifications."""

from __future__ import annotations
