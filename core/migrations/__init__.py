"""Alembic migrations: the only way Muskel's schema changes, identical for SQLite and PostgreSQL."""
