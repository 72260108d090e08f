"""Alembic environment: the only way the schema is made, in production and in tests."""

from __future__ import annotations

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

import challenges.activities.models
import challenges.models  # noqa: F401
import notifications.models  # noqa: F401
import scoring.models  # noqa: F401
import service.mail.models
import service.models  # noqa: F401
from service.db import UTCDateTime

config = context.config
if config.config_file_name is not None and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

db = current_app.extensions["migrate"].db
target_metadata = db.metadata


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_offline() -> None:
    context.configure(url=str(db.engine.url).replace("%", "%%"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True, render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = db.engine
    with connectable.connect() as connection:
        args = {
            **current_app.extensions["migrate"].configure_args,
            "render_as_batch": connection.dialect.name == "sqlite",
            "render_item": render_item,
            "compare_type": True,
        }
        context.configure(connection=connection, target_metadata=target_metadata, **args)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
