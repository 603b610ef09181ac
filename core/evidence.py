"""Photo evidence of a visit: storing photos, finding the same photo used for another family, and the flags
reviewers see beside each photo (GPS, capture time, duplicates, missing kinds, editing)."""

from __future__ import annotations

import json
import statistics
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from core import audit, filestore, photos, verification
from core.access import Action, Actor, Role, in_scope, require
from core.errors import AccessDenied, InvalidInput, NotFound
from core.faultpoint import faultpoint
from core.models import Family, PhotoHashChunk, Visit, VisitPhoto, Wilayah
from core.verification import _visit_for
from core.verification_codes import PHOTO_KINDS, REQUIRED_KINDS

FAR_METRES = 150
DAYS_BEFORE, DAYS_AFTER = 14, 1

MESSAGES = {
    "gps_far_from_family": "Foto diambil {m} m dari lokasi keluarga yang tercatat (batas {limit} m).",
    "gps_far_from_visit": "Foto diambil {m} m dari foto lain pada kunjungan yang sama (batas {limit} m).",
    "time_far_from_visit": "Foto diambil {when}, jauh dari tanggal kunjungan {visit}.",
    "dup_exact": "Foto yang sama persis juga dipakai untuk keluarga {where}.",
    "dup_near": "Foto yang sangat mirip (diubah ukuran/dikompres ulang) juga dipakai untuk keluarga {where}.",
    "kind_missing": "Foto wajib belum ada: {kinds}.",
}


def add_photo(visit_id: int, data: bytes, filename: str, kind: str, *, actor: Actor, session: Session,
              max_bytes: int | None = None) -> dict:
    """Store one photo of a visit. An unreadable file is refused with a message; nothing is half-stored.

    The size cap is ``MUSKEL_PHOTO_MAX_MB`` (default 20 MB) unless ``max_bytes`` is given."""
    if max_bytes is None:
        from core.config import load_settings

        max_bytes = load_settings().photo_max_mb * 1024 * 1024
    visit, assignment = _visit_for(visit_id, actor, session)
    verification.ensure_open(assignment, session)
    if kind not in PHOTO_KINDS:
        raise InvalidInput("Pilih jenis foto (tampak depan, tampak dalam, …).", code="photo_kind_invalid", field="jenis")
    result = photos.analyse(data, max_bytes=max_bytes)
    if not result.readable:
        raise InvalidInput(f"{filename}: {result.messages['unreadable']}", code="unreadable", field="foto")
    common = {"actor": actor, "session": session, "original_name": filename, "wilayah_kode": assignment.kelurahan_kode}
    original = filestore.save(data, media_type=result.media_type, purpose="visit_photo", **common)
    display = filestore.save(result.display_jpeg, media_type="image/jpeg", purpose="visit_photo_display", **common)
    thumb = filestore.save(result.thumb_jpeg, media_type="image/jpeg", purpose="visit_photo_thumb", **common)
    e = result.exif
    row = VisitPhoto(visit_id=visit.id, family_id=assignment.family_id, kelurahan_kode=assignment.kelurahan_kode,
                     kind=kind, original_id=original.id, display_id=display.id, thumb_id=thumb.id,
                     sha256=result.sha256, phash=f"{result.phash:016x}", width=result.width, height=result.height,
                     format=result.format, latitude=e.latitude, longitude=e.longitude, altitude=e.altitude,
                     accuracy=e.accuracy, taken_at=e.taken_at, offset_assumed=e.offset_assumed, camera=e.camera[:120],
                     software=e.software[:120], flags=json.dumps(result.messages, ensure_ascii=False),
                     created_by=actor.username)
    session.add(row)
    session.flush()
    session.add_all([PhotoHashChunk(photo_id=row.id, position=i, value=v)
                     for i, v in enumerate(photos.hash_chunks(result.phash))])
    duplicates = find_duplicates(result.sha256, result.phash, exclude_family=assignment.family_id, actor=actor,
                                 session=session, exclude_photo=row.id)
    flags = dict(result.messages)
    if duplicates:
        exact = [d for d in duplicates if d["exact"]]
        code = "dup_exact" if exact else "dup_near"
        flags[code] = MESSAGES[code].format(where=", ".join(sorted({d["where"] for d in (exact or duplicates)})))
    row.flags = json.dumps(flags, ensure_ascii=False)
    session.add(row)
    audit.record(session, actor, "verification.photo_added", object_type="visit_photo", object_id=row.uuid,
                 wilayah_kode=assignment.kelurahan_kode,
                 after={"sha256": result.sha256, "jenis": kind, "temuan": sorted(flags)})
    faultpoint("photo.stored")  # files in the store, rows flushed, nothing committed (tests/fault)
    return photo_dict(row, display.sha256, thumb.sha256)


def photo_dict(p: VisitPhoto, display_sha: str, thumb_sha: str) -> dict:
    return {"id": p.id, "kind": p.kind, "latitude": p.latitude, "longitude": p.longitude, "taken_at": p.taken_at,
            "offset_assumed": p.offset_assumed, "camera": p.camera, "software": p.software,
            "flags": json.loads(p.flags), "note": p.note, "display_sha256": display_sha, "thumb_sha256": thumb_sha,
            "family_id": p.family_id, "visit_id": p.visit_id}


def find_duplicates(sha256: str, phash: int, *, actor: Actor, session: Session, exclude_family: int | None = None,
                    exclude_photo: int | None = None) -> list[dict]:
    """Photos of other families with the same bytes, or a perceptual hash within 7 bits, anywhere in Jakarta.

    Near candidates come from the byte index (``PhotoHashChunk``): no comparison against every stored photo.
    Outside the actor's wilayah only the kelurahan is named, never the other family.
    """
    chunks = photos.hash_chunks(phash)
    condition = sa.or_(*[(PhotoHashChunk.position == i) & PhotoHashChunk.value.in_(photos.probe_values(v))
                         for i, v in enumerate(chunks)])
    candidates = select(PhotoHashChunk.photo_id).where(condition).distinct()
    stmt = (select(VisitPhoto.id, VisitPhoto.sha256, VisitPhoto.phash, VisitPhoto.family_id,
                   VisitPhoto.kelurahan_kode, Wilayah.nama)
            .join(Wilayah, Wilayah.kode == VisitPhoto.kelurahan_kode)
            .where(sa.or_(VisitPhoto.sha256 == sha256, VisitPhoto.id.in_(candidates))))
    found = []
    for pid, sha, other_hash, family_id, kode, nama in session.exec(stmt):
        if pid == exclude_photo or (exclude_family is not None and family_id == exclude_family):
            continue
        exact = sha == sha256
        distance = photos.hamming(int(other_hash, 16), phash)
        if not exact and distance > photos.NEAR_DUPLICATE_BITS:
            continue
        where = f"di Kel. {nama}"
        if in_scope(actor.wilayah_kode, kode) and family_id:
            family = session.get(Family, family_id)
            where = f"KK …{family.no_kk[-4:]} (RT {family.rt}/RW {family.rw}) di Kel. {nama}"
        found.append({"photo_id": pid, "family_id": family_id if in_scope(actor.wilayah_kode, kode) else None,
                      "kelurahan": nama, "exact": exact, "distance": distance, "where": where})
    return found


def visit_flags(visit_id: int, *, session: Session, far_metres: int = FAR_METRES) -> list[dict]:
    """Every photo of the visit with all its flags (file-level, duplicates, distance, time) + visit-level ones."""
    visit = session.get(Visit, visit_id)
    rows = session.exec(select(VisitPhoto).where(VisitPhoto.visit_id == visit_id).order_by(VisitPhoto.id)).all()
    family = session.get(Family, rows[0].family_id) if rows and rows[0].family_id else None
    located = [(p.latitude, p.longitude) for p in rows if p.latitude is not None]
    centre = (statistics.median(x for x, _ in located), statistics.median(y for _, y in located)) if located else None
    result = []
    for p in rows:
        flags = json.loads(p.flags)
        if p.latitude is not None:
            if family and family.latitude is not None:
                d = photos.distance_m(p.latitude, p.longitude, family.latitude, family.longitude)
                if d > far_metres:
                    flags["gps_far_from_family"] = MESSAGES["gps_far_from_family"].format(m=round(d), limit=far_metres)
            if centre and len(located) > 1:
                d = photos.distance_m(p.latitude, p.longitude, *centre)
                if d > far_metres:
                    flags["gps_far_from_visit"] = MESSAGES["gps_far_from_visit"].format(m=round(d), limit=far_metres)
        if p.taken_at is not None and visit is not None:
            taken = p.taken_at.astimezone(photos.photo_exif.WIB_OFFSET).date()
            if taken < visit.tanggal - timedelta(days=DAYS_BEFORE) or taken > visit.tanggal + timedelta(days=DAYS_AFTER):
                flags["time_far_from_visit"] = MESSAGES["time_far_from_visit"].format(
                    when=taken.strftime("%d/%m/%Y"), visit=visit.tanggal.strftime("%d/%m/%Y"))
        result.append({"photo_id": p.id, "kind": p.kind, "codes": sorted(flags), "flags": flags})
    kinds = {p.kind for p in rows}
    missing = [PHOTO_KINDS[k] for k in REQUIRED_KINDS if k not in kinds]
    if missing:
        result.append({"photo_id": None, "kind": None, "codes": ["kind_missing"],
                       "flags": {"kind_missing": MESSAGES["kind_missing"].format(kinds=", ".join(missing))}})
    return result


def visit_photos(visit_id: int, *, actor: Actor, session: Session) -> list[dict]:
    _visit_for(visit_id, actor, session)
    return _photos(select(VisitPhoto).where(VisitPhoto.visit_id == visit_id), session)


def family_gallery(family_id: int, *, actor: Actor, session: Session) -> list[dict]:
    family = session.get(Family, family_id)
    if family is None:
        raise NotFound("Keluarga tidak ditemukan.", code="unknown_family")
    if Role(actor.role) == Role.PETUGAS:
        from core.models import Assignment

        mine = session.exec(select(Assignment.id).where(Assignment.family_id == family_id,
                                                        Assignment.officer == actor.username)).first()
        if mine is None:
            raise AccessDenied("Keluarga ini tidak ditugaskan kepada Anda.")
    else:
        require(actor, Action.FAMILY_VIEW, family.kelurahan_kode)
    return _photos(select(VisitPhoto).where(VisitPhoto.family_id == family_id), session)


def _photos(stmt, session: Session) -> list[dict]:
    from core.models import StoredFile

    rows = session.exec(stmt.order_by(VisitPhoto.id)).all()
    if not rows:
        return []
    ids = {r.display_id for r in rows} | {r.thumb_id for r in rows}
    shas = dict(session.exec(select(StoredFile.id, StoredFile.sha256).where(StoredFile.id.in_(ids))).all())
    evaluated = {}
    for visit_id in {r.visit_id for r in rows}:
        for item in visit_flags(visit_id, session=session):
            if item["photo_id"]:
                evaluated[item["photo_id"]] = item["flags"]
    out = []
    for r in rows:
        d = photo_dict(r, shas[r.display_id], shas[r.thumb_id])
        d["flags"] = evaluated.get(r.id, d["flags"])
        out.append(d)
    return out


def explain_photo(photo_id: int, note: str, *, actor: Actor, session: Session) -> None:
    """The officer's note beside a flagged photo (e.g. two KKs in one house)."""
    row = session.get(VisitPhoto, photo_id)
    if row is None:
        raise NotFound("Foto tidak ditemukan.", code="unknown_photo")
    _, assignment = _visit_for(row.visit_id, actor, session)
    verification.ensure_open(assignment, session)
    if len((note or "").strip()) < 10:
        raise InvalidInput("Tulis penjelasan minimal 10 karakter.", code="note_missing", field="catatan")
    before = row.note
    row.note = note.strip()
    session.add(row)
    audit.record(session, actor, "verification.photo_explained", object_type="visit_photo", object_id=row.uuid,
                 wilayah_kode=row.kelurahan_kode, before={"catatan": before}, after={"catatan": row.note})


LOCATION_SOURCES = {"exif": "GPS foto", "map": "Titik di peta", "typed": "Koordinat diketik", "device": "Lokasi perangkat"}


def set_family_location(family_id: int, latitude: float, longitude: float, source: str, reason: str, *,
                        actor: Actor, session: Session) -> dict:
    """Record where the family lives and where that coordinate came from; map/typed points need a reason."""
    family = session.get(Family, family_id)
    if family is None:
        raise NotFound("Keluarga tidak ditemukan.", code="unknown_family")
    require(actor, Action.VERIFICATION_RECORD, family.kelurahan_kode)
    if source not in LOCATION_SOURCES:
        raise InvalidInput("Sumber koordinat tidak dikenal.", code="location_source_invalid", field="sumber")
    try:
        latitude, longitude = float(latitude), float(longitude)
    except (TypeError, ValueError):
        raise InvalidInput("Koordinat harus angka desimal, mis. -6.2001 dan 106.8602.", code="coordinate_invalid",
                           field="koordinat") from None
    if not photos.in_dki(latitude, longitude):
        raise InvalidInput("Koordinat di luar DKI Jakarta. Ingat: lintang Jakarta negatif (selatan), mis. -6.2.",
                           code="coordinate_outside_dki", field="koordinat")
    if source in ("map", "typed") and len((reason or "").strip()) < 5:
        raise InvalidInput("Tulis alasan menetapkan lokasi secara manual (mis. GPS ponsel mati).",
                           code="reason_missing", field="alasan")
    before = {"lat": family.latitude, "lon": family.longitude, "sumber": family.location_source}
    family.latitude, family.longitude, family.location_source = latitude, longitude, source
    family.location_note = (reason or "").strip()[:300]
    session.add(family)
    audit.record(session, actor, "verification.location_set", object_type="family", object_id=family.uuid,
                 wilayah_kode=family.kelurahan_kode, before=before,
                 after={"lat": latitude, "lon": longitude, "sumber": source, "alasan": family.location_note})
    return {"latitude": latitude, "longitude": longitude, "source": source}


def map_points(kelurahan_kode: str, *, actor: Actor, session: Session) -> list[dict]:
    """Families of the kelurahan that have a location or a visit, with the latest result and the flag count.

    Colour: green = found and no photo flags, orange = flags to look at, red = not found/moved/refused,
    grey = not visited yet. Only what a marker needs; details are fetched for the clicked family alone.
    """
    from core.models import Assignment

    require(actor, Action.FAMILY_VIEW, kelurahan_kode)
    families = {f.id: f for f in session.exec(select(Family).where(Family.kelurahan_kode == kelurahan_kode,
                                                                    Family.latitude.is_not(None))).all()}
    visits = session.exec(select(Assignment.family_id, Visit).join(Visit, Visit.assignment_id == Assignment.id)
                          .where(Assignment.kelurahan_kode == kelurahan_kode).order_by(Visit.id)).all()
    latest = {fid: v for fid, v in visits if fid}
    points = []
    for fid, family in families.items():
        visit = latest.get(fid)
        flags = sorted({c for item in visit_flags(visit.id, session=session) for c in item["codes"]}) if visit else []
        colour = "gray" if visit is None else ("red" if visit.hasil in ("tidak_ditemukan", "pindah", "menolak")
                                              else ("orange" if flags else "green"))
        points.append({"family_id": fid, "lat": family.latitude, "lon": family.longitude, "rt": family.rt,
                       "rw": family.rw, "desil": family.desil, "hasil": visit.hasil if visit else "",
                       "flags": flags, "colour": colour, "source": family.location_source})
    return points
