"""The file store on an S3-compatible object store (core.filestore_s3), against a real S3 HTTP endpoint.

moto's stand-alone server speaks the S3 protocol over HTTP on loopback, so the store's own boto3 calls go
through the same wire protocol as against MinIO or Ceph in a city's network. The bucket is read back with a
separate boto3 client and hashlib — never with the store under test.

A user notices: with replicas that share no disk, a photo saved by one replica is served by another; a failed
save leaves no stray object; the orphan sweep removes only old unreferenced objects; a misconfigured bucket gives
an Indonesian message instead of a traceback.
"""

from __future__ import annotations

import hashlib
import socket
import time

import pytest
from sqlmodel import select

from core import db, filestore
from core.access import SYSTEM_ACTOR
from core.errors import EnvironmentProblem, NotFound
from core.filestore_s3 import S3FileStore
from core.models import StoredFile

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")

PHOTO = b"\xff\xd8\xff\xe0 foto rumah keluarga di Palmeriam, dari replika pertama"
SCAN = b"%PDF-1.4 pindaian SPTJM yang ditandatangani Lurah %%EOF"
BUCKET = "muskel-berkas"


class Boom(Exception):
    pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def endpoint(monkeypatch_module):
    for name, value in {"AWS_ACCESS_KEY_ID": "uji", "AWS_SECRET_ACCESS_KEY": "rahasia-uji",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch_module.setenv(name, value)
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.fixture
def oracle(endpoint):
    """A plain boto3 client, independent of S3FileStore, and a fresh empty bucket."""
    client = boto3.client("s3", endpoint_url=endpoint)
    existing = [b["Name"] for b in client.list_buckets().get("Buckets", [])]
    if BUCKET in existing:
        for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    else:
        client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def store(endpoint, oracle):
    return S3FileStore.from_url(f"s3://{BUCKET}/kota-jaktim", endpoint_url=endpoint)


def _keys(oracle) -> list[str]:
    return sorted(obj["Key"] for obj in oracle.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_bytes_stored_once_under_their_hash(store, oracle):
    """Guards content addressing: the object is named by the SHA-256 of its bytes, stored once."""
    expected = hashlib.sha256(PHOTO).hexdigest()
    assert store.put(PHOTO) == (expected, True)
    assert store.put(PHOTO) == (expected, False)
    assert _keys(oracle) == [f"kota-jaktim/{expected[:2]}/{expected[2:4]}/{expected}"]
    body = oracle.get_object(Bucket=BUCKET, Key=_keys(oracle)[0])["Body"].read()
    assert hashlib.sha256(body).hexdigest() == expected
    assert store.get(expected) == PHOTO
    assert store.exists(expected) and [sha for sha, _ in store.list_all()] == [expected]


def test_second_replica_reads_what_the_first_wrote(endpoint, store):
    """Guards sharing: another process's store object (another client) reads the same bytes."""
    sha, _ = store.put(SCAN)
    other_replica = S3FileStore(BUCKET, "kota-jaktim/", client=boto3.client("s3", endpoint_url=endpoint))
    assert other_replica.get(sha) == SCAN


def test_missing_file_is_not_found_in_indonesian(store):
    with pytest.raises(NotFound, match="tidak ada di penyimpanan"):
        store.get("0" * 64)
    assert not store.exists("0" * 64)
    store.delete("0" * 64)  # deleting what is gone is not an error


def test_repeated_put_refreshes_the_age_the_sweep_sees(store, oracle):
    """Guards the orphan sweep's age guard: a fresh reference to old bytes makes the object young again."""
    sha, _ = store.put(PHOTO)
    first = dict(store.list_all())[sha]
    time.sleep(1.1)  # S3 modification times have one-second resolution
    store.put(PHOTO)
    assert dict(store.list_all())[sha] > first


def test_failed_save_removes_the_new_object_and_writes_no_row(sqlite_only, store, oracle):
    """Guards the unit of work with an object store: files written before a failing commit are removed."""
    with pytest.raises(Boom):
        with db.session_scope(sqlite_only) as session:
            filestore.save(SCAN, media_type="application/pdf", purpose="scan", actor=SYSTEM_ACTOR,
                           session=session, store=store, original_name="sptjm.pdf")
            raise Boom()
    assert _keys(oracle) == []
    with db.session_scope(sqlite_only) as session:
        assert session.exec(select(StoredFile)).all() == []


def test_sweep_removes_old_orphans_and_keeps_referenced(sqlite_only, store, oracle):
    """Guards collect_garbage on S3: an unreferenced old object goes, a referenced one stays."""
    with db.session_scope(sqlite_only) as session:
        kept = filestore.save(PHOTO, media_type="image/jpeg", purpose="photo", actor=SYSTEM_ACTOR,
                              session=session, store=store).sha256
    orphan, _ = store.put(SCAN)
    with db.session_scope(sqlite_only) as session:
        assert filestore.collect_garbage(session, store) == []  # the orphan is still young
        removed = filestore.collect_garbage(session, store, now=time.time() + 2 * 3600)
    assert removed == [orphan]
    assert [key.rsplit("/", 1)[-1] for key in _keys(oracle)] == [kept]


def test_configured_by_environment(monkeypatch, endpoint, oracle):
    """Guards the switch: MUSKEL_FILE_STORE=s3://… makes every caller's default store the bucket."""
    monkeypatch.setenv("MUSKEL_FILE_STORE", f"s3://{BUCKET}/jakbar")
    monkeypatch.setenv("MUSKEL_S3_ENDPOINT_URL", endpoint)
    sha, _ = filestore.default_store().put(PHOTO)
    assert _keys(oracle) == [f"jakbar/{sha[:2]}/{sha[2:4]}/{sha}"]


def test_unreachable_store_says_what_to_check(monkeypatch):
    """Guards the message: an endpoint nobody answers on is an environment problem in Indonesian."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    dead = S3FileStore.from_url(f"s3://{BUCKET}", endpoint_url=f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(EnvironmentProblem, match="tidak dapat dipakai"):
        dead.put(PHOTO)


def test_bad_url_is_refused():
    with pytest.raises(EnvironmentProblem, match="s3://nama-bucket"):
        S3FileStore.from_url("https://bucket/awalan")


def test_doctor_reports_an_unusable_bucket(monkeypatch):
    """Guards `muskel doctor`: a configured object store nobody answers for makes the installation unhealthy."""
    from core import doctor

    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("MUSKEL_FILE_STORE", f"s3://{BUCKET}")
    monkeypatch.setenv("MUSKEL_S3_ENDPOINT_URL", f"http://127.0.0.1:{_free_port()}")
    report, healthy = doctor.diagnose()
    assert not healthy and "tidak dapat dipakai" in report["file_store_error"]


def test_doctor_accepts_a_reachable_bucket(monkeypatch, endpoint, oracle):
    from core import doctor

    monkeypatch.setenv("MUSKEL_FILE_STORE", f"s3://{BUCKET}")
    monkeypatch.setenv("MUSKEL_S3_ENDPOINT_URL", endpoint)
    report, _ = doctor.diagnose()
    assert report["file_store"] == f"s3://{BUCKET}" and "file_store_error" not in report
