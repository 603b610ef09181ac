"""Submission packages that are ZIP bombs, built in chunks (never whole in the test's memory), cached per run.

- ``honest``: one member declaring its true size — 600 MB of zeros in 2.7 MB — under the 800 MB total limit;
- ``nested``: a member that is itself that bomb (a ZIP inside the package);
- ``lying``: a member whose central directory claims 1,000 bytes but which inflates to 300 MB.
Each also holds a small ``manifest.json`` so that the member list looks like a package's.
"""

from __future__ import annotations

import functools
import io
import json
import struct
import zipfile

ZEROS = bytes(16 << 20)
NAME = "files/" + "0" * 64


def _zip_with(member_writer) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("manifest.json", json.dumps({"format": "muskel-package", "version": 1}))
        member_writer(archive)
    return buffer.getvalue()


def _zeros(archive: zipfile.ZipFile, megabytes: int) -> None:
    with archive.open(NAME, "w") as member:
        for _ in range(megabytes // 16):
            member.write(ZEROS)


@functools.lru_cache(maxsize=None)
def honest() -> bytes:
    return _zip_with(lambda archive: _zeros(archive, 608))


@functools.lru_cache(maxsize=None)
def nested() -> bytes:
    inner = honest()
    return _zip_with(lambda archive: archive.writestr(zipfile.ZipInfo(NAME), inner))


@functools.lru_cache(maxsize=None)
def lying() -> bytes:
    raw = bytearray(_zip_with(lambda archive: _zeros(archive, 304)))
    start, patched = 0, 0
    while (central := raw.find(b"PK\x01\x02", start)) >= 0:
        (n,) = struct.unpack_from("<H", raw, central + 28)
        if raw[central + 46:central + 46 + n] == NAME.encode():
            raw[central + 24:central + 28] = struct.pack("<I", 1000)  # uncompressed size in the central directory
            patched += 1
        start = central + 4
    assert patched == 1
    return bytes(raw)


def declared_and_actual(data: bytes) -> tuple[int, int]:
    """(what the directory declares in all, the compressed bytes) — read with zipfile, nothing inflated."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        return sum(i.file_size for i in infos), sum(i.compress_size for i in infos)
