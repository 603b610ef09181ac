"""Alembic environment: runs migrations on the engine handed over by core.db (or MUSKEL_DATABASE_URL)."""

from alembic import context

import core.models  # noqa: F401  (registers every table on the metadata)
from core.db import get_engine
from sqlmodel import SQLModel

config = context.config


def _include(obj, name, type_, reflected, compare_to):
    """The SQLite full-text index (person_fts and its shadow tables) is managed by hand in a migration."""
    return not (type_ == "table" and name and name.startswith("person_fts"))


engine = config.attributes.get("engine") or get_engine()

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=_include,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
