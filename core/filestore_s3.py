"""The file store on an S3-compatible object store, for replicas that share no filesystem.

A city may run its app replicas on machines without a common disk; then photos, scans and documents live in a
bucket instead (an S3-compatible service such as MinIO or Ceph's RGW inside the government network). This class
implements the same five methods as ``LocalFileStore`` with the same guarantees, so no caller changes:

- objects are named ``<prefix>ab/cd/<sha256>`` (content-addressed: the same bytes are stored once);
- ``put`` of bytes already stored refreshes the object's modification time (a copy onto itself), so a fresh
  reference keeps the file away from the orphan sweep for another hour, as the local store does with ``utime``;
- the object's checksum is given on upload (``ChecksumSHA256``) when the service supports it, so bytes damaged on
  the way are refused by the service instead of being stored under the wrong name.

Selected with ``MUSKEL_FILE_STORE=s3://bucket/prefix``; the endpoint with ``MUSKEL_S3_ENDPOINT_URL`` and the keys
through the usual ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` variables (never in the repository).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Iterator
from urllib.parse import urlparse

from core.errors import EnvironmentProblem, NotFound


def parse_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` → (bucket, "some/prefix/")."""
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise EnvironmentProblem(f"MUSKEL_FILE_STORE {url!r} tidak dikenal: gunakan s3://nama-bucket/awalan.")
    prefix = parsed.path.strip("/")
    return parsed.netloc, f"{prefix}/" if prefix else ""


def _is_sha256(name: str) -> bool:
    return len(name) == 64 and all(c in "0123456789abcdef" for c in name)


class S3FileStore:
    """Files as objects ``<prefix>ab/cd/<sha256>`` in one bucket."""

    def __init__(self, bucket: str, prefix: str = "", *, client=None, endpoint_url: str | None = None):
        if client is None:
            import boto3  # imported here: a laptop installation never needs it loaded
            from botocore.config import Config

            client = boto3.client("s3", endpoint_url=endpoint_url or None,
                                  config=Config(retries={"max_attempts": 5, "mode": "standard"}))
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    @classmethod
    def from_url(cls, url: str, *, endpoint_url: str | None = None) -> "S3FileStore":
        bucket, prefix = parse_url(url)
        return cls(bucket, prefix, endpoint_url=endpoint_url)

    def _key(self, sha256: str) -> str:
        if not _is_sha256(sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return f"{self.prefix}{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def _fail(self, exc: Exception) -> EnvironmentProblem:
        return EnvironmentProblem(f"Penyimpanan berkas s3://{self.bucket}/{self.prefix} tidak dapat dipakai: {exc}.")

    @staticmethod
    def _missing(exc: Exception) -> bool:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        return code in {"404", "NoSuchKey", "NotFound"}

    def put(self, data: bytes) -> tuple[str, bool]:
        digest = hashlib.sha256(data)
        sha = digest.hexdigest()
        key = self._key(sha)
        try:
            if self.exists(sha):
                self.client.copy_object(Bucket=self.bucket, Key=key, CopySource={"Bucket": self.bucket, "Key": key},
                                        MetadataDirective="REPLACE", Metadata={"sha256": sha})
                return sha, False
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, Metadata={"sha256": sha},
                                   ChecksumSHA256=base64.b64encode(digest.digest()).decode("ascii"))
        except EnvironmentProblem:
            raise
        except Exception as exc:  # noqa: BLE001 - botocore's errors are many classes; all mean "store unusable"
            raise self._fail(exc) from exc
        return sha, True

    def get(self, sha256: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(sha256))["Body"].read()
        except Exception as exc:  # noqa: BLE001
            if self._missing(exc):
                raise NotFound(f"Berkas {sha256[:12]}… tidak ada di penyimpanan.", code="file_missing") from exc
            raise self._fail(exc) from exc

    def exists(self, sha256: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(sha256))
            return True
        except Exception as exc:  # noqa: BLE001
            if self._missing(exc):
                return False
            raise self._fail(exc) from exc

    def delete(self, sha256: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(sha256))
        except Exception as exc:  # noqa: BLE001
            if not self._missing(exc):
                raise self._fail(exc) from exc

    def list_all(self) -> Iterator[tuple[str, float]]:
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
            for page in pages:
                for obj in page.get("Contents", []):
                    name = obj["Key"].rsplit("/", 1)[-1]
                    if _is_sha256(name) and obj["Key"] == self._key(name):
                        yield name, obj["LastModified"].timestamp()
        except Exception as exc:  # noqa: BLE001
            raise self._fail(exc) from exc
