"""CLI commands of notifications, added to `vcc` by the app factory."""

from __future__ import annotations

import click

commands: list[click.Command] = []
