"""One content-addressed store for every file Muskel keeps (photos, scans, documents).

Files are stored once by SHA-256 behind the small ``FileStore`` interface; ``LocalFileStore`` keeps them on a
filesystem path (a shared path serves several app replicas), and ``core.filestore_s3`` implements the same five
methods on an S3-compatible object store. The file is written before the row that points to it; when the action
fails, the files it newly wrote are removed (see ``core.db.session_scope``); and ``collect_garbage`` removes
files that no row references once they are older than an hour. A referenced file is never removed.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
import time
from pathlib import Path
from typing import Iterator, Protocol

from sqlmodel import Session, select

from core.access import Actor
from core.config import Settings, load_settings
from core.errors import EnvironmentProblem, NotFound
from core.models import StoredFile

ORPHAN_MIN_AGE_SECONDS = 3600


class FileStore(Protocol):
    def put(self, data: bytes) -> tuple[str, bool]:
        """Store ``data``; returns (sha256, True when the content was not stored before)."""

    def get(self, sha256: str) -> bytes: ...

    def exists(self, sha256: str) -> bool: ...

    def delete(self, sha256: str) -> None: ...

    def list_all(self) -> Iterator[tuple[str, float]]:
        """Every stored file as (sha256, modification time as a Unix timestamp)."""


class LocalFileStore:
    """Files under ``root/ab/cd/<sha256>``, written atomically (temporary file, fsync, rename)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> tuple[str, bool]:
        sha = hashlib.sha256(data).hexdigest()
        path = self._path(sha)
        if path.exists():
            os.utime(path)  # a fresh reference: keep it away from the orphan sweep for another hour
            return sha, False
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            raise EnvironmentProblem(f"Berkas tidak dapat disimpan di {self.root}: {exc.strerror}.") from exc
        return sha, True

    def get(self, sha256: str) -> bytes:
        try:
            return self._path(sha256).read_bytes()
        except FileNotFoundError as exc:
            raise NotFound(f"Berkas {sha256[:12]}… tidak ada di penyimpanan.", code="file_missing") from exc

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).exists()

    def delete(self, sha256: str) -> None:
        try:
            self._path(sha256).unlink()
        except FileNotFoundError:
            pass

    def list_all(self) -> Iterator[tuple[str, float]]:
        if not self.root.exists():
            return
        for path in self.root.glob("??/??/*"):
            if path.is_file() and len(path.name) == 64:
                yield path.name, path.stat().st_mtime


def store_for(settings: Settings) -> FileStore:
    """The installation's file store: a path under the data directory, or an object store when configured."""
    if settings.file_store_url:
        return _object_store(settings.file_store_url, settings.s3_endpoint_url)
    return LocalFileStore(settings.files_dir)


@functools.lru_cache(maxsize=4)
def _object_store(url: str, endpoint_url: str) -> FileStore:
    # One client per configuration: creating a boto3 client costs tens of milliseconds.
    from core.filestore_s3 import S3FileStore

    return S3FileStore.from_url(url, endpoint_url=endpoint_url or None)


def default_store() -> FileStore:
    return store_for(load_settings())


def save(
    data: bytes,
    *,
    media_type: str,
    purpose: str,
    actor: Actor,
    session: Session,
    store: FileStore | None = None,
    original_name: str = "",
    wilayah_kode: str | None = None,
) -> StoredFile:
    """Write the bytes to the store, then add the row that points to them, in the caller's transaction.

    Callers check the actor's right to attach a file to their object before calling; this function only
    records who stored it. If the transaction rolls back, a file this call newly wrote is removed again.
    """
    store = store or default_store()
    sha, created = store.put(data)
    if created:
        session.info.setdefault("new_files", []).append((store, sha))
    row = StoredFile(sha256=sha, size=len(data), media_type=media_type, purpose=purpose,
                     original_name=original_name[:255], wilayah_kode=wilayah_kode, created_by=actor.username)
    session.add(row)
    session.flush()
    return row


def collect_garbage(session: Session, store: FileStore | None = None, *,
                    min_age_seconds: int = ORPHAN_MIN_AGE_SECONDS, now: float | None = None) -> list[str]:
    """Remove stored files that no row references and that are older than ``min_age_seconds``."""
    store = store or default_store()
    now = time.time() if now is None else now
    referenced = set(session.exec(select(StoredFile.sha256)).all())
    removed = []
    for sha, mtime in list(store.list_all()):
        if sha in referenced or now - mtime < min_age_seconds:
            continue
        # Look again just before deleting: a row may have been committed since the set was read.
        if session.exec(select(StoredFile.id).where(StoredFile.sha256 == sha)).first() is None:
            store.delete(sha)
            removed.append(sha)
    return removed
