"""Content-addressed file store (core.filestore) and its tie to the unit of work (core.db.session_scope).

A user notices: the same photo uploaded twice takes space once; a failed save leaves no stray file and no row,
but never deletes a file another record still points to; the orphan sweep only removes old unreferenced files.
"""

from __future__ import annotations

import hashlib
import os
import time

import pytest
from sqlmodel import select

from core import db, filestore
from core.access import SYSTEM_ACTOR
from core.models import StoredFile

PHOTO = b"\x89PNG\r\n\x1a\n foto kunjungan rumah keluarga di Kayu Manis"
SCAN = b"%PDF-1.4 pindaian surat keterangan tidak mampu"


class Boom(Exception):
    pass


@pytest.fixture
def store(tmp_path):
    return filestore.LocalFileStore(tmp_path / "files")


def _rows(engine, sha):
    with db.session_scope(engine) as session:
        return session.exec(select(StoredFile).where(StoredFile.sha256 == sha)).all()


def _save(engine, store, data):
    with db.session_scope(engine) as session:
        row = filestore.save(data, media_type="image/png", purpose="photo", actor=SYSTEM_ACTOR, session=session,
                             store=store, original_name="foto.png", wilayah_kode="31.75.01.1003")
        return row.sha256


def test_same_bytes_stored_once(store):
    """Guards deduplication: a second upload of identical bytes reuses the stored file."""
    expected = hashlib.sha256(PHOTO).hexdigest()
    sha, created = store.put(PHOTO)
    assert (sha, created) == (expected, True)
    sha2, created2 = store.put(PHOTO)
    assert (sha2, created2) == (expected, False)
    files = [p for p in store.root.rglob("*") if p.is_file()]
    assert len(files) == 1 and files[0].name == expected
    assert store.get(expected) == PHOTO
    assert [s for s, _ in store.list_all()] == [expected]


def test_save_writes_file_then_row(engine, store):
    """Guards save(): after commit the bytes are on disk and a row with their hash and size exists."""
    sha = _save(engine, store, PHOTO)
    assert sha == hashlib.sha256(PHOTO).hexdigest()
    assert store.exists(sha) and store.get(sha) == PHOTO
    rows = _rows(engine, sha)
    assert len(rows) == 1
    assert rows[0].size == len(PHOTO) and rows[0].created_by == SYSTEM_ACTOR.username
    assert rows[0].purpose == "photo" and rows[0].original_name == "foto.png"


def test_failed_action_removes_new_file_and_row_but_keeps_existing_file(engine, store):
    """Guards the rollback cleanup: new files vanish with their rows; a file another row references stays."""
    old_sha = _save(engine, store, PHOTO)  # committed earlier by another action
    new_sha = hashlib.sha256(SCAN).hexdigest()
    with pytest.raises(Boom):
        with db.session_scope(engine) as session:
            filestore.save(PHOTO, media_type="image/png", purpose="photo", actor=SYSTEM_ACTOR, session=session,
                           store=store)
            filestore.save(SCAN, media_type="application/pdf", purpose="scan", actor=SYSTEM_ACTOR,
                           session=session, store=store)
            assert store.exists(new_sha)  # written before the row
            raise Boom()
    assert not store.exists(new_sha)
    assert _rows(engine, new_sha) == []
    assert store.exists(old_sha) and store.get(old_sha) == PHOTO
    assert len(_rows(engine, old_sha)) == 1


def _age(store, sha, seconds):
    path = store._path(sha)
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_collect_garbage_removes_only_old_unreferenced_files(engine, store):
    """Guards the orphan sweep: old orphans go, young orphans and referenced files (however old) stay."""
    referenced = _save(engine, store, PHOTO)
    old_orphan, _ = store.put(SCAN)
    young_orphan, _ = store.put(b"unggahan yang baru saja gagal disimpan")
    _age(store, referenced, 30 * 24 * 3600)
    _age(store, old_orphan, 2 * 3600)
    _age(store, young_orphan, 10 * 60)

    with db.session_scope(engine) as session:
        removed = filestore.collect_garbage(session, store)
    assert removed == [old_orphan]
    assert not store.exists(old_orphan)
    assert store.exists(young_orphan)
    assert store.exists(referenced) and store.get(referenced) == PHOTO


def test_collect_garbage_now_parameter_ages_files(engine, store):
    """Guards the ``now`` parameter: a young orphan is swept once an hour has passed, a referenced file never."""
    referenced = _save(engine, store, PHOTO)
    orphan, _ = store.put(SCAN)
    with db.session_scope(engine) as session:
        assert filestore.collect_garbage(session, store, now=time.time() + 59 * 60) == []
    with db.session_scope(engine) as session:
        removed = filestore.collect_garbage(session, store, now=time.time() + 365 * 24 * 3600)
    assert removed == [orphan]
    assert not store.exists(orphan)
    assert store.exists(referenced)
