"""`muskel doctor`: is this installation healthy? Database, migrations, data directory, file store, reference
data, accounts."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlmodel import select

from core import db, filestore, wilayah
from core.config import Settings, load_settings
from core.errors import EnvironmentProblem
from core.models import User


def diagnose(settings: Settings | None = None) -> tuple[dict, bool]:
    """Returns (report, healthy). Never creates or migrates anything."""
    settings = settings or load_settings()
    report: dict = {"database": "ok", "migrations": "unknown", "data_dir": "ok", "wilayah": {}, "accounts": {}}
    healthy = True
    try:
        db.ensure_data_dir(settings)
    except EnvironmentProblem as exc:
        report["data_dir"] = "error"
        report["data_dir_error"] = exc.message
        healthy = False
    if settings.file_store_url:
        report["file_store"] = settings.file_store_url
        try:
            filestore.store_for(settings).exists("0" * 64)  # a read that touches the bucket and the keys
        except EnvironmentProblem as exc:
            report["file_store_error"] = exc.message
            healthy = False

    if settings.is_sqlite and not Path(sa.make_url(settings.database_url).database or "").exists():
        report["database"] = "missing"
        report["database_error"] = "Berkas basis data belum ada. Jalankan `muskel init`."
        return report, False
    engine = db.get_engine(settings.database_url)
    try:
        db.check_connection(engine)
    except EnvironmentProblem as exc:
        report["database"] = "error"
        report["database_error"] = exc.message
        return report, False

    current, head = db.current_revision(engine), db.head_revision(engine)
    report["migrations"] = "head" if current == head else ("empty" if current is None else "behind")
    report["revision"] = current
    if current != head:
        report["migrations_error"] = f"Skema di revisi {current or 'kosong'}, seharusnya {head}: jalankan `muskel init`."
        return report, False
    with db.session_scope(engine) as session:
        counts = wilayah.counts_by_level(session)
        report["wilayah"] = counts
        rows = session.exec(select(User.role, sa.func.count()).group_by(User.role)).all()
        report["accounts"] = {role: n for role, n in sorted(rows)}
    if counts.get("kelurahan", 0) == 0:
        report["wilayah_error"] = "Data wilayah belum dimuat: jalankan `muskel init`."
        healthy = False
    return report, healthy
