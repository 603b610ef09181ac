"""Ingesting one 12-megapixel phone photo: hash, EXIF, orientation, display copy, thumbnail, perceptual hash and
the near-duplicate lookup among 100,000 stored photos — against Pillow decoding the same file once.

Target: ≤ 250 ms median and ≤ 3× the decode. Run: python -m bench.bench_photo [POSTGRES_URL]
"""

from __future__ import annotations

import io
import random
import sys

import numpy as np
import sqlalchemy as sa
from PIL import Image, ImageDraw

from bench.common import median_seconds, report, scratch_engine
from core import accounts, db, demo_register, evidence, photos, proposals, register, verification
from core.access import SYSTEM_ACTOR, Actor, Role
from core.models import PhotoHashChunk, StoredFile, VisitPhoto

KEL = "31.75.01.1003"


def phone_photo(seed: int = 7, width: int = 4000, height: int = 3000) -> bytes:
    """A 12 MP JPEG that compresses like a photo (gradients, shapes, sensor noise), not like random noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x / width * 200 + 30, y / height * 170 + 40, (x + y) / (width + height) * 150 + 50], -1)
    base += rng.normal(0, 5, base.shape)
    image = Image.fromarray(np.clip(base, 0, 255).astype("uint8"))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x0, y0 = int(rng.integers(0, width - 600)), int(rng.integers(0, height - 600))
        draw.rectangle([x0, y0, x0 + int(rng.integers(80, 900)), y0 + int(rng.integers(80, 900))],
                       fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Samsung", "SM-A145F"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92, exif=exif)
    return buffer.getvalue()


def _fill_photos(engine, visit_id: int, family_id: int, n: int) -> None:
    """100,000 stored photos (random perceptual hashes) with their hash index, loaded in bulk."""
    rng = random.Random(2026)
    with db.session_scope(engine) as s:
        placeholder = StoredFile(sha256="0" * 64, size=0, media_type="image/jpeg", purpose="bench",
                                 created_by="bench")
        s.add(placeholder)
        s.flush()
        conn = s.connection()
        first = (s.exec(sa.select(sa.func.max(VisitPhoto.id))).one()[0] or 0) + 1
        rows, chunks = [], []
        for i in range(n):
            h = rng.getrandbits(64)
            rows.append({"id": first + i, "uuid": f"bench-{i}", "visit_id": visit_id, "family_id": family_id,
                         "kelurahan_kode": KEL, "kind": "depan", "original_id": placeholder.id,
                         "display_id": placeholder.id, "thumb_id": placeholder.id, "sha256": f"{i:064x}",
                         "phash": f"{h:016x}", "width": 1, "height": 1, "format": "JPEG", "flags": "{}",
                         "offset_assumed": False, "camera": "", "software": "", "note": "", "created_by": "bench",
                         "created_at": placeholder.created_at})
            chunks.extend({"photo_id": first + i, "position": p, "value": v}
                          for p, v in enumerate(photos.hash_chunks(h)))
        conn.execute(sa.insert(VisitPhoto), rows)
        conn.execute(sa.insert(PhotoHashChunk), chunks)


def main(url: str | None = None) -> None:
    engine = scratch_engine(url)
    with db.session_scope(engine) as s:
        for username, role in (("operator.bench", "operator"), ("petugas.bench", "petugas")):
            accounts.create_account(accounts.NewAccount(username=username, nama=username, role=role,
                                                        wilayah_kode=KEL), actor=SYSTEM_ACTOR, session=s,
                                    password="bench-password-1", must_change=False)
    operator = Actor("operator.bench", "Operator", Role.OPERATOR, KEL)
    petugas = Actor("petugas.bench", "Petugas", Role.PETUGAS, KEL)
    extract = demo_register.to_csv(demo_register.generate(KEL, 30, seed=5))
    with db.session_scope(engine) as s:
        register.import_extract(extract, "bench.csv", KEL, actor=operator, session=s)
        family_ids = [f["family_id"] for f in proposals.register_candidates(KEL, actor=operator, session=s)[:2]]
        verification.assign(KEL, "petugas.bench", family_ids=family_ids, actor=operator, session=s)
    with db.session_scope(engine) as s:
        mine = verification.list_assignments(actor=petugas, session=s)
        target = verification.start_visit(mine[0]["id"], actor=petugas, session=s)
        other = verification.start_visit(mine[1]["id"], actor=petugas, session=s)
    _fill_photos(engine, other["id"], mine[1]["family_id"], 100_000)
    data = phone_photo()

    def decode_once():
        Image.open(io.BytesIO(data)).load()

    def ingest():
        with db.session_scope(engine) as s:
            evidence.add_photo(target["id"], data, "ponsel.jpg", "depan", actor=petugas, session=s)

    decode = median_seconds(decode_once, repeat=9)
    ingest_time = median_seconds(ingest, repeat=9)
    phash = photos.analyse(data).phash
    found: list = []

    def lookup_once():
        with db.session_scope(engine) as s:
            found[:] = evidence.find_duplicates("f" * 64, phash, actor=petugas, session=s)

    lookup = median_seconds(lookup_once, repeat=9)
    report(f"Photo ingest (12 MP JPEG, {len(data) / 1e6:.1f} MB; 100,000 stored photos)",
           [("ingest one photo (all steps, one transaction)", ingest_time, decode),
            ("Pillow decode of the same file (baseline)", decode, None),
            (f"near-duplicate lookup alone ({len(found)} found)", lookup, None)], engine.dialect.name)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
