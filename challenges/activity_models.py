"""Typed models of activity ingest."""

from __future__ import annotations
