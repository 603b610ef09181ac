"""Bringing a database to a usable state: migrate under a lock, load reference data, check readiness.

``muskel init`` and the embedded (SQLite) app start call ``initialise``; a PostgreSQL deployment runs
``muskel init`` as its migration step and the app only checks ``ensure_ready``.
"""

from __future__ import annotations

import sqlalchemy as sa

from core import db, wilayah
from core.config import Settings, load_settings
from core.errors import EnvironmentProblem


def initialise(settings: Settings | None = None, engine: sa.Engine | None = None) -> dict:
    """Create or migrate the database and load reference data, idempotently and never destructively."""
    settings = settings or load_settings()
    db.ensure_data_dir(settings)
    engine = engine or db.get_engine(settings.database_url)
    db.check_connection(engine)
    with db.migration_lock(engine):
        before, after = db.migrate(engine)
        with db.session_scope(engine) as session:
            loaded = wilayah.load_reference(session)
    return {"revision_before": before, "revision": after, "wilayah": loaded}


def ensure_ready(settings: Settings | None = None) -> None:
    """For the web app: SQLite migrates itself; PostgreSQL must already be at head (deployments run init)."""
    settings = settings or load_settings()
    if settings.is_sqlite:
        initialise(settings)
        return
    db.ensure_data_dir(settings)
    engine = db.get_engine(settings.database_url)
    db.check_connection(engine)
    if not db.is_at_head(engine):
        raise EnvironmentProblem(
            f"Skema basis data belum mutakhir (revisi {db.current_revision(engine) or 'kosong'}, "
            f"seharusnya {db.head_revision(engine)}). Jalankan `muskel init` sebelum menyalakan aplikasi."
        )
