"""Backup and restore of a whole installation: the database and the file store, with a manifest of hashes.

A backup is taken while the app runs: SQLite through its online backup API, PostgreSQL through ``pg_dump`` (both
give one consistent snapshot); every stored file the snapshot points to is added with its SHA-256. Files are
written before the rows that point to them, so a row in the snapshot always finds its file. A restore goes only
into an empty installation, checks every file against the manifest and the audit chain after loading, and resets
the audit checkpoint to the restored chain's head.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import zipfile
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from core import audit, audit_checkpoint, db, filestore
from core.config import Settings, load_settings
from core.errors import EnvironmentProblem, InvalidInput
from core.timefmt import utcnow

FORMAT, VERSION = "muskel-backup", 1


def _tool(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        raise EnvironmentProblem(f"Program {name} tidak ditemukan: pasang paket Debian 'postgresql-client'.")
    return found


def _libpq(url: str) -> tuple[str, dict]:
    """A libpq connection URI without the password, and the environment that carries the password."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    uri = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _dump_database(settings: Settings, workdir: Path) -> tuple[str, Path]:
    if settings.is_sqlite:
        source_path = make_url(settings.database_url).database
        target = workdir / "database.sqlite"
        source = sqlite3.connect(source_path)
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)
        finally:
            dest.close()
            source.close()
        return "sqlite", target
    uri, env = _libpq(settings.database_url)
    target = workdir / "database.pgdump"
    done = subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "--file",
                           str(target), uri], env=env, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise EnvironmentProblem(f"pg_dump gagal: {done.stderr.strip()[:300]}")
    return "postgresql", target


def _snapshot_facts(engine: sa.Engine) -> dict:
    with engine.connect() as conn:
        # Originals purged after their retention period are no longer in the store (a backup of an older schema
        # has no such column); a content still pointed to by another row is listed through that row.
        columns = {c["name"] for c in sa.inspect(conn).get_columns("storedfile")}
        live = " WHERE purged_at IS NULL" if "purged_at" in columns else ""
        files = [{"sha256": sha, "size": size} for sha, size in
                 conn.execute(sa.text(f"SELECT DISTINCT sha256, size FROM storedfile{live} ORDER BY sha256"))]
        head = conn.execute(sa.text("SELECT last_seq, last_hash FROM audithead WHERE id = 1")).first()
        counts = {t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
                  for t in ("user_account", "family", "person", "musyawarah", "proposal", "visitphoto", "document",
                            "batch", "auditentry", "storedfile")}
    return {"files": files, "audit_head": {"seq": head[0], "hash": head[1]} if head else None, "counts": counts}


def backup(out: Path, *, settings: Settings | None = None) -> dict:
    """Write a backup ZIP; returns its manifest. The database snapshot is taken first, then its facts are read
    from the snapshot itself, so files and counts describe exactly what was saved."""
    settings = settings or load_settings()
    store = filestore.store_for(settings)
    with tempfile.TemporaryDirectory(prefix="muskel-backup-") as tmp:
        kind, dump = _dump_database(settings, Path(tmp))
        if kind == "sqlite":
            facts = _snapshot_facts(sa.create_engine(f"sqlite:///{dump}"))
        else:
            facts = _snapshot_facts(db.get_engine(settings.database_url))
        engine = db.get_engine(settings.database_url)
        manifest = {"format": FORMAT, "version": VERSION, "created_at": utcnow().isoformat(), "database": kind,
                    "revision": db.current_revision(engine), **facts}
        tmp_out = out.with_suffix(out.suffix + ".part")
        with zipfile.ZipFile(tmp_out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
            archive.write(dump, dump.name)
            for entry in manifest["files"]:
                archive.writestr(f"files/{entry['sha256']}", store.get(entry["sha256"]))
            archive.writestr("backup.json", json.dumps(manifest, indent=1))
        os.replace(tmp_out, out)
    return manifest


def backup_for(actor, *, settings: Settings | None = None) -> tuple[Path, dict]:
    """The backup button: the admin, or on a single-laptop (SQLite) installation also the Lurah; the ZIP lands in
    the data directory's backups/ folder and the action is audited."""
    from core.access import Role
    from core.errors import AccessDenied

    settings = settings or load_settings()
    role = Role(actor.role)
    if not (role == Role.ADMIN or (role == Role.LURAH and settings.is_sqlite)):
        raise AccessDenied("Cadangan dibuat oleh administrator (atau Lurah pada instalasi laptop tunggal).")
    folder = settings.data_dir / "backups"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"muskel-{utcnow().strftime('%Y%m%d-%H%M%S')}.zip"
    manifest = backup(target, settings=settings)
    with db.session_scope() as session:
        audit.record(session, actor, "system.backup", object_type="installation", object_id=target.name,
                     wilayah_kode=actor.wilayah_kode,
                     after={"berkas": len(manifest["files"]), "entri_audit": (manifest["audit_head"] or {}).get("seq")})
    return target, manifest


def _empty(engine: sa.Engine) -> bool:
    inspector = sa.inspect(engine)
    if "user_account" not in inspector.get_table_names():
        return True
    with engine.connect() as conn:
        return all(conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one() == 0
                   for t in ("user_account", "auditentry", "family", "musyawarah"))


def restore(path: Path, *, settings: Settings | None = None) -> dict:
    """Load a backup into an empty installation; refuses a damaged backup or a non-empty target."""
    settings = settings or load_settings()
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidInput("Berkas ini bukan cadangan Muskel yang utuh.", code="backup_not_zip", field="file") from exc
    with archive:
        try:
            manifest = json.loads(archive.read("backup.json"))
        except (KeyError, ValueError) as exc:
            raise InvalidInput("Cadangan tidak memuat backup.json yang sah.", code="backup_incomplete") from exc
        if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
            raise InvalidInput("Format cadangan tidak dikenal oleh versi Muskel ini.", code="backup_format")
        target_kind = "sqlite" if settings.is_sqlite else "postgresql"
        if manifest["database"] != target_kind:
            raise InvalidInput(f"Cadangan ini dari {manifest['database']}; instalasi tujuan memakai {target_kind}.",
                               code="backup_database_kind")
        for entry in manifest["files"]:
            data = archive.read(f"files/{entry['sha256']}")
            if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                raise InvalidInput(f"Berkas {entry['sha256'][:12]}… di dalam cadangan rusak.", code="backup_file_hash")
        db.ensure_data_dir(settings)
        engine = db.get_engine(settings.database_url)
        if not _empty(engine):
            raise InvalidInput("Instalasi tujuan tidak kosong: pulihkan hanya ke instalasi baru.",
                               code="restore_target_not_empty")
        store = filestore.store_for(settings)
        for entry in manifest["files"]:
            store.put(archive.read(f"files/{entry['sha256']}"))
        if target_kind == "sqlite":
            db.get_engine.cache_clear()
            engine.dispose()
            target = Path(make_url(settings.database_url).database)
            for suffix in ("", "-wal", "-shm"):
                Path(str(target) + suffix).unlink(missing_ok=True)
            target.write_bytes(archive.read("database.sqlite"))
        else:
            with tempfile.NamedTemporaryFile(suffix=".pgdump") as dump:
                dump.write(archive.read("database.pgdump"))
                dump.flush()
                with engine.begin() as conn:
                    conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                    conn.execute(sa.text("CREATE SCHEMA public"))
                uri, env = _libpq(settings.database_url)
                done = subprocess.run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--dbname", uri,
                                       dump.name], env=env, capture_output=True, text=True, timeout=3600)
                if done.returncode != 0:
                    raise EnvironmentProblem(f"pg_restore gagal: {done.stderr.strip()[:300]}")
    engine = db.get_engine(settings.database_url)
    audit_checkpoint.forget(str(engine.url))  # the restored chain is checked on its own, then anchored again
    with db.session_scope(engine) as session:
        report = audit.verify_chain(session)
    head = manifest["audit_head"]
    if head and head["seq"]:
        audit_checkpoint.advance(str(engine.url), head["seq"], head["hash"])
    facts = _snapshot_facts(engine)
    return {"restored": True, "counts": facts["counts"], "files": len(manifest["files"]),
            "audit_ok": report.ok, "audit_entries": report.entries, "revision": manifest["revision"]}

