"""Demo field verification for Kayu Manis (the walkthrough's Pak Budi): November's items that need a visit are
assigned to petugas.kayumanis; some visits are done, with generated house photos — most with GPS, one without
(his phone strips it), one house photographed for two KKs living in it."""

from __future__ import annotations

import io
import random
from datetime import date, datetime

from PIL import Image, ImageDraw
from PIL.TiffImagePlugin import IFDRational
from sqlmodel import Session, select

from core import accounts, evidence, meetings, proposals, verification
from core.models import Assignment

KAYUMANIS = "31.75.01.1003"
CENTRE = (-6.1985, 106.8655)


def _house(seed: int, size=(800, 600)) -> Image.Image:
    """A made-up house front: sky, ground, walls, roof, door, windows and clutter, different for every seed."""
    rng = random.Random(seed)
    w, h = size
    img = Image.new("RGB", size, (rng.randint(90, 200), rng.randint(140, 210), rng.randint(180, 250)))
    d = ImageDraw.Draw(img)
    horizon = int(h * rng.uniform(0.55, 0.8))
    d.rectangle([0, horizon, w, h], fill=(rng.randint(60, 140), rng.randint(60, 120), rng.randint(40, 90)))
    for _ in range(rng.randint(2, 4)):  # neighbouring buildings, walls, fences
        x0 = rng.randint(-100, w - 50)
        top = rng.randint(int(h * 0.1), horizon - 40)
        d.rectangle([x0, top, x0 + rng.randint(120, 420), horizon + rng.randint(0, 40)],
                    fill=tuple(rng.randint(60, 250) for _ in range(3)))
        d.polygon([(x0 - 20, top), (x0 + rng.randint(60, 200), top - rng.randint(30, 120)), (x0 + 440, top)],
                  fill=(rng.randint(100, 220), rng.randint(30, 90), rng.randint(20, 60)))
    for _ in range(rng.randint(3, 9)):  # doors, windows, plants, a motorbike…
        x, y = rng.randint(0, w - 60), rng.randint(int(h * 0.2), h - 60)
        shape = rng.choice(["rect", "ellipse"])
        box = [x, y, x + rng.randint(20, 140), y + rng.randint(20, 160)]
        colour = tuple(rng.randint(0, 255) for _ in range(3))
        (d.rectangle if shape == "rect" else d.ellipse)(box, fill=colour)
    d.text((rng.randint(20, w - 100), rng.randint(20, h - 40)), f"No. {rng.randint(1, 120)}", fill=(20, 20, 20))
    return img


def _jpeg(img: Image.Image, lat: float | None, lon: float | None, taken: datetime) -> bytes:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Xiaomi", "Redmi Note 12"
    exif_ifd = exif.get_ifd(0x8769)
    exif_ifd[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
    exif_ifd[0x9011] = "+07:00"
    if lat is not None:
        gps = exif.get_ifd(0x8825)

        def dms(value: float):
            value = abs(value)
            d = int(value)
            m = int((value - d) * 60)
            s = round((value - d - m / 60) * 3600 * 100)
            return (IFDRational(d, 1), IFDRational(m, 1), IFDRational(s, 100))

        gps[1], gps[2] = ("S" if lat < 0 else "N"), dms(lat)
        gps[3], gps[4] = ("W" if lon < 0 else "E"), dms(lon)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


def seed(*, session: Session) -> int:
    """Returns the number of visits created (0 when already seeded)."""
    if session.exec(select(Assignment.id).where(Assignment.kelurahan_kode == KAYUMANIS)).first():
        return 0
    lurah = accounts.actor_for(accounts.get_user(session, "lurah.kayumanis"), channel="cli")
    budi = accounts.actor_for(accounts.get_user(session, "petugas.kayumanis"), channel="cli")
    november = [m for m in meetings.list_meetings(KAYUMANIS, actor=lurah, session=session)
                if m["periode"] == "2026-11" and m["kind"] == "held"]
    if not november:
        return 0
    rule = verification.rule_for(KAYUMANIS, session=session)
    items = [i for i in proposals.list_proposals(november[0]["id"], actor=lurah, session=session)
             if verification.needs_verification(i, rule)]
    verification.assign(KAYUMANIS, "petugas.kayumanis", proposal_ids=[i["id"] for i in items], actor=lurah,
                        session=session)
    rng = random.Random(1113)
    shared_front = None
    visits = 0
    for n, assignment in enumerate(verification.list_assignments(actor=budi, session=session)[:6]):
        visit = verification.start_visit(assignment["id"], actor=budi, session=session, tanggal=date(2026, 11, 13 + n))
        lat, lon = CENTRE[0] + rng.uniform(-0.004, 0.004), CENTRE[1] + rng.uniform(-0.004, 0.004)
        taken = datetime(2026, 11, 13 + n, 9 + n, 15)
        front = _jpeg(_house(n), None if n == 2 else lat, lon, taken)
        if n == 4:
            front = shared_front  # one house, two KKs: the same photo for both families
        shared_front = shared_front or front
        evidence.add_photo(visit["id"], front, f"IMG_2026111{n}_depan.jpg", "depan", actor=budi, session=session)
        inside = _jpeg(_house(100 + n).transpose(Image.Transpose.FLIP_LEFT_RIGHT), lat, lon, taken)
        evidence.add_photo(visit["id"], inside, f"IMG_2026111{n}_dalam.jpg", "dalam", actor=budi, session=session)
        if assignment["family_id"] and n != 2:
            evidence.set_family_location(assignment["family_id"], lat, lon, "exif", "", actor=budi, session=session)
        criteria = list(range(1, 12)) if n == 0 else rng.sample(range(1, 15), rng.randint(2, 8))
        hasil = "tidak_ditemukan" if n == 5 else "ditemukan"
        current = verification.get_visit(visit["id"], actor=budi, session=session)
        verification.update_visit(visit["id"], {
            "hasil": hasil, "kriteria_bps": criteria, "anggota_hadir": 3 if hasil == "ditemukan" else 0,
            "rekomendasi": "" if hasil != "ditemukan" else ("layak" if n in (0, 1) else "perlu_dibahas"),
            "kondisi": {"status_kepemilikan": "kontrak_sewa", "lantai": "semen", "listrik": "pln_meteran",
                        "daya_va": "450", "aset": ["sepeda_motor", "smartphone"]},
            "catatan": "Dua KK tinggal dalam satu rumah." if n == 4 else ""},
            expected_version=current["version"], actor=budi, session=session)
        if n != 3:  # one visit still in progress
            verification.finish_visit(visit["id"], actor=budi, session=session)
        visits += 1
    return visits
