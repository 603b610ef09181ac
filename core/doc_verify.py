"""Anyone holding a printout or a PDF can ask whether it is a genuine Muskel document — without logging in.

The answer is one of ``valid``, ``superseded``, ``altered`` (it carries a Muskel code but its bytes are not the
registered ones), ``draft`` (a Muskel draft, never valid) or ``unknown``, with the type, number, date,
kelurahan and counts — nothing personal. Clients are rate-limited so the codes cannot be guessed by brute force.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date

from sqlmodel import Session, select

from core.documents import LABELS, normalise_code
from core.errors import InvalidInput
from core.models import Document
from core.pdf_kit import DRAFT_KEYWORD, FINAL_KEYWORD
from core.rate_limit import RateLimiter
from core.timefmt import tanggal

STATUS_TEXT = {
    "valid": "SAH — dokumen ini persis sama dengan dokumen final yang tercatat.",
    "superseded": "DIGANTIKAN — dokumen ini pernah final, tetapi sudah digantikan oleh dokumen lain.",
    "altered": "DIUBAH — berkas ini membawa kode Muskel, tetapi isinya berbeda dari dokumen yang tercatat.",
    "draft": "DRAF — ini draf Muskel untuk pemeriksaan, bukan dokumen resmi.",
    "unknown": "TIDAK DIKENAL — dokumen ini tidak tercatat di Muskel.",
}
_KEYWORD = re.compile(rb"/Keywords \((" + re.escape(FINAL_KEYWORD.encode()) + rb"[0-9A-Z-]{14}|"
                      + re.escape(DRAFT_KEYWORD.encode()) + rb")\)")
MAX_PDF_BYTES = 30 * 1024 * 1024


def _public(doc: Document, session: Session) -> dict:
    summary = json.loads(doc.summary)
    successor = session.get(Document, doc.superseded_by_id) if doc.superseded_by_id else None
    return {"jenis": doc.doc_type, "jenis_label": LABELS[doc.doc_type], "nomor": doc.nomor,
            "tanggal": tanggal(date.fromisoformat(summary["tanggal"])) if summary.get("tanggal")
            else tanggal(doc.finalised_at), "periode": doc.periode, "wilayah_kode": doc.wilayah_kode,
            "kelurahan": summary.get("kelurahan", ""), "kecamatan": summary.get("kecamatan", ""),
            "kota": summary.get("kota", ""), "kk": summary.get("kk", 0), "jiwa": summary.get("jiwa", 0),
            "per_jenis": summary.get("per_jenis", {}), "kode": doc.verification_code, "sha256": doc.sha256,
            "digantikan_oleh": successor.nomor if successor else None}


def by_code(code: str, *, session: Session) -> dict:
    normal = normalise_code(code)
    if not normal:
        raise InvalidInput("Kode verifikasi terdiri atas 12 huruf/angka, misalnya 7K3M-QX2P-9RTD.",
                           code="code_format", field="kode")
    doc = session.exec(select(Document).where(Document.verification_code == normal)).first()
    if doc is None:
        return {"status": "unknown", "pesan": STATUS_TEXT["unknown"]}
    status = "valid" if doc.status == "final" else "superseded"
    return {"status": status, "pesan": STATUS_TEXT[status], **_public(doc, session)}


def by_pdf(data: bytes, *, session: Session) -> dict:
    if len(data) > MAX_PDF_BYTES:
        raise InvalidInput("Berkas terlalu besar untuk diperiksa (paling besar 30 MB).", code="pdf_too_large",
                           field="berkas")
    if data[:5] != b"%PDF-":
        raise InvalidInput("Berkas ini bukan PDF. Unggah berkas PDF dokumen Muskel, atau ketik kode verifikasinya.",
                           code="not_pdf", field="berkas")
    sha = hashlib.sha256(data).hexdigest()
    doc = session.exec(select(Document).where(Document.sha256 == sha)).first()
    if doc is not None:
        status = "valid" if doc.status == "final" else "superseded"
        return {"status": status, "pesan": STATUS_TEXT[status], **_public(doc, session)}
    match = _KEYWORD.search(data)
    if match is None:
        return {"status": "unknown", "pesan": STATUS_TEXT["unknown"], "sha256": sha}
    marker = match.group(1).decode()
    if marker == DRAFT_KEYWORD:
        return {"status": "draft", "pesan": STATUS_TEXT["draft"], "sha256": sha}
    code = marker[len(FINAL_KEYWORD):]
    doc = session.exec(select(Document).where(Document.verification_code == code)).first()
    if doc is None:
        return {"status": "unknown", "pesan": STATUS_TEXT["unknown"], "sha256": sha}
    return {"status": "altered", "pesan": STATUS_TEXT["altered"], **_public(doc, session), "sha256_berkas": sha}


# 20 checks per minute per client (the limiter is shared with the login throttle: core.rate_limit).
LIMITER = RateLimiter(limit=20, window=60.0)
