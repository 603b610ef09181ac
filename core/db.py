"""Engines, units of work and migrations for SQLite (embedded) and PostgreSQL (multi-user) alike.

- one engine per process and URL (``get_engine``), never a cached Session;
- ``session_scope()`` is one unit of work per user action: commit on success, roll back and remove the files the
  action wrote on failure;
- on SQLite every transaction starts with ``BEGIN IMMEDIATE`` so that writers queue instead of failing half-way;
- ``migrate()`` brings the schema to head under a lock, so two processes never migrate at once.
"""

from __future__ import annotations

import fcntl
import functools
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlmodel import Session

from core.config import Settings, load_settings
from core.errors import EnvironmentProblem
from core.faultpoint import faultpoint

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Arbitrary but fixed key for PostgreSQL's advisory lock around migrations.
_PG_MIGRATION_LOCK = 7_301_175_001


def get_engine(url: str | None = None) -> sa.Engine:
    """The engine for ``url`` (default: the configured database), one per URL and process. The URL is resolved
    before the cache is asked, so a changed MUSKEL_DATABASE_URL is never answered with an old engine."""
    return _engine_for(url or load_settings().database_url)


get_engine.cache_clear = lambda: _engine_for.cache_clear()  # type: ignore[attr-defined]  # forget every engine


@functools.lru_cache(maxsize=8)
def _engine_for(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _configure_sqlite(engine)
    else:
        engine = sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    return engine


def _configure_sqlite(engine: sa.Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Take transaction control away from pysqlite so BEGIN IMMEDIATE below is what really happens.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        # A 64 MB page cache (default ~2 MB): inserting into the indexes of a 1,000,000-person register (NIK, KK,
        # uuid, the name trigrams) touches pages all over them; with the default cache every import thrashes.
        cur.execute("PRAGMA cache_size=-65536")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A deferred transaction that reads and then writes can fail with SQLITE_BUSY when another writer
        # committed meanwhile; taking the write lock up front makes writers wait their turn instead.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def ensure_data_dir(settings: Settings) -> None:
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        settings.files_dir.mkdir(parents=True, exist_ok=True)
        # A probe of its own per process and thread: concurrent starts must not unlink each other's probe.
        probe = settings.data_dir / f".write-test-{os.getpid()}-{threading.get_ident()}"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise EnvironmentProblem(
            f"Direktori data {settings.data_dir} tidak dapat ditulisi ({exc.strerror}). "
            "Periksa MUSKEL_DATA_DIR dan hak aksesnya."
        ) from exc


@contextmanager
def session_scope(engine: sa.Engine | None = None) -> Iterator[Session]:
    """One unit of work: commit at the end, roll back on any error and delete files written meanwhile."""
    engine = engine or get_engine()
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        _discard_new_files(session)
        raise
    finally:
        session.close()
    _advance_audit_checkpoint(engine, session)


def _advance_audit_checkpoint(engine: sa.Engine, session: Session) -> None:
    """After a commit that appended audit entries, move the outside checkpoint forward (never fails the action:
    the change is committed; a checkpoint left behind only makes the next verification less strict)."""
    if session.info.pop("audit_head", None) is None:
        return
    faultpoint("db.committed")  # audit entries committed, the checkpoint not yet moved (tests/fault)
    from core import audit_checkpoint

    try:
        # Read the committed head itself: an entry appended and then rolled back in a savepoint never counts.
        with engine.connect() as conn:
            head = conn.execute(sa.text("SELECT last_seq, last_hash FROM audithead WHERE id = 1")).first()
        if head is not None and head[0]:
            audit_checkpoint.advance(str(engine.url), head[0], head[1])
    except (OSError, sa.exc.SQLAlchemyError):
        import logging

        logging.getLogger(__name__).exception("audit checkpoint not written")


def _discard_new_files(session: Session) -> None:
    for store, sha in session.info.pop("new_files", []):
        store.delete(sha)


# --- migrations -------------------------------------------------------------------------------------------


def alembic_config(engine: sa.Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision(engine: sa.Engine) -> str:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_at_head(engine: sa.Engine) -> bool:
    return current_revision(engine) == head_revision(engine)


@contextmanager
def migration_lock(engine: sa.Engine) -> Iterator[None]:
    """Hold an exclusive lock for the duration of a migration (file lock on SQLite, advisory lock on PostgreSQL)."""
    if engine.dialect.name == "sqlite":
        db_path = engine.url.database
        lock_path = Path(db_path + ".migrate.lock") if db_path and db_path != ":memory:" else None
        if lock_path is None:
            yield
            return
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
    else:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATION_LOCK})
                conn.commit()


def migrate(engine: sa.Engine) -> tuple[str | None, str]:
    """Upgrade the schema to head; returns (revision before, revision after). Never drops existing data."""
    before = current_revision(engine)
    command.upgrade(alembic_config(engine), "head")
    return before, current_revision(engine)


CONNECTION_LOST_MESSAGE = ("Sambungan ke basis data terputus. Tidak ada yang tersimpan sebagian; coba lagi sebentar "
                           "lagi.")


def connection_lost(exc: BaseException) -> bool:
    """True for errors meaning the database went away (server restarted, network cut), not a bug in the action:
    the transaction was rolled back by the server and the same action can simply be tried again."""
    if isinstance(exc, sa.exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig
    try:
        import psycopg
    except ImportError:  # SQLite-only installations
        return False
    return isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError))


def check_connection(engine: sa.Engine) -> None:
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        raise EnvironmentProblem(
            f"Basis data tidak dapat dihubungi ({engine.url.render_as_string(hide_password=True)}): "
            f"{exc.__class__.__name__}. Periksa MUSKEL_DATABASE_URL dan apakah server berjalan."
        ) from exc
