"""The wording of official documents: shipped defaults an admin may rewrite without a code change.

Only paragraphs live here; the layout stays in the PDF builders. A paragraph names the facts it needs as
``{placeholders}``; an edit that uses a placeholder its paragraph does not offer is refused, so a document can
never be generated with a hole in it. Final documents are stored as PDFs, so a later edit never alters them.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from sqlmodel import Session, select

from core import audit
from core.access import Action, Actor, require
from core.errors import InvalidInput, NotFound, StaleEdit
from core.models import DocumentText
from core.timefmt import utcnow

PROVINCE = "31"

# Facts every dated paragraph can use.
_WHEN = ("hari", "tanggal", "tanggal_huruf", "bulan", "tahun", "tahun_huruf")
_PLACE = ("kelurahan", "kecamatan", "kota", "periode")


@dataclass(frozen=True)
class Paragraph:
    key: str
    title: str  # what the admin sees in the list
    default: str
    placeholders: tuple[str, ...]


PARAGRAPHS: tuple[Paragraph, ...] = (
    Paragraph("ba.judul", "Berita Acara — judul",
              "BERITA ACARA MUSYAWARAH KELURAHAN {kelurahan_kapital}\n"
              "TENTANG USULAN DATA SASARAN PROGRAM PENGENTASAN KEMISKINAN\n"
              "DAN PEMUTAKHIRAN DTSEN PERIODE {periode_kapital}",
              ("kelurahan_kapital", "periode_kapital")),
    Paragraph("ba.pembuka", "Berita Acara — pembuka",
              "Pada hari ini {hari} tanggal {tanggal_huruf} bulan {bulan} tahun {tahun_huruf}, pukul {jam_mulai} "
              "sampai dengan {jam_selesai} WIB, bertempat di {tempat}, telah dilaksanakan Musyawarah Kelurahan "
              "{kelurahan}, Kecamatan {kecamatan}, {kota}, untuk membahas usulan data sasaran program pengentasan "
              "kemiskinan dan penghapusan kemiskinan ekstrem serta usulan pemutakhiran Data Tunggal Sosial dan "
              "Ekonomi Nasional (DTSEN) periode {periode}.",
              _WHEN + _PLACE + ("jam_mulai", "jam_selesai", "tempat")),
    Paragraph("ba.dasar", "Berita Acara — dasar hukum (satu baris per dasar)",
              "Undang-Undang Nomor 13 Tahun 2011 tentang Penanganan Fakir Miskin;\n"
              "Undang-Undang Nomor 27 Tahun 2022 tentang Pelindungan Data Pribadi;\n"
              "Instruksi Presiden Nomor 4 Tahun 2025 tentang Data Tunggal Sosial dan Ekonomi Nasional;\n"
              "Instruksi Gubernur Tahun 2026 tentang Optimalisasi Pelaksanaan Pengentasan Kemiskinan dan "
              "Penghapusan Kemiskinan Ekstrem.",
              ()),
    Paragraph("ba.peserta", "Berita Acara — pimpinan dan peserta",
              "Musyawarah dipimpin oleh {ketua} dengan notulis {notulis}, dan dihadiri oleh {jumlah_hadir} orang "
              "peserta sebagaimana tercantum dalam Lampiran I (daftar hadir).",
              ("ketua", "notulis", "jumlah_hadir")),
    Paragraph("ba.hasil", "Berita Acara — pengantar hasil",
              "Musyawarah menyepakati usulan sebanyak {kk} keluarga dan {jiwa} jiwa dengan rincian sebagai berikut; "
              "daftar nama dan alamat tercantum dalam Lampiran II.",
              ("kk", "jiwa")),
    Paragraph("ba.penutup", "Berita Acara — penutup",
              "Demikian Berita Acara ini dibuat dengan sebenarnya untuk dipergunakan sebagaimana mestinya.", ()),
    Paragraph("sptjm.pembuka", "SPTJM — pembuka", "Yang bertanda tangan di bawah ini:", ()),
    Paragraph("sptjm.pernyataan_dilaksanakan", "SPTJM — pernyataan (musyawarah dilaksanakan; satu baris per butir)",
              "Musyawarah Kelurahan {kelurahan} periode {periode} telah dilaksanakan pada hari {hari} tanggal "
              "{tanggal} sebagaimana tercantum dalam Berita Acara Nomor {nomor_ba};\n"
              "Data usulan sebanyak {kk} keluarga dan {jiwa} jiwa sebagaimana terlampir telah diperiksa dan sesuai "
              "dengan keadaan yang sebenarnya;\n"
              "Data usulan tersebut diperoleh melalui musyawarah tanpa rekayasa atau manipulasi;\n"
              "Saya bertanggung jawab penuh atas kebenaran data usulan tersebut.",
              _WHEN + _PLACE + ("nomor_ba", "kk", "jiwa")),
    Paragraph("sptjm.pernyataan_tidak_dilaksanakan",
              "SPTJM — pernyataan (musyawarah tidak dilaksanakan; satu baris per butir)",
              "Musyawarah Kelurahan {kelurahan} tidak dilaksanakan pada periode {periode} dengan alasan: {alasan};\n"
              "Pada periode tersebut Kelurahan {kelurahan} tidak menyampaikan usulan data sasaran maupun usulan "
              "pemutakhiran DTSEN;\n"
              "Saya bertanggung jawab penuh atas kebenaran pernyataan ini.",
              _PLACE + ("alasan",)),
    Paragraph("sptjm.penutup", "SPTJM — penutup",
              "Apabila di kemudian hari pernyataan ini terbukti tidak benar, saya bersedia bertanggung jawab penuh "
              "dan menerima sanksi sesuai ketentuan peraturan perundang-undangan. Demikian surat pernyataan ini "
              "dibuat dengan sebenarnya dan dalam keadaan sadar tanpa paksaan dari pihak mana pun.", ()),
    Paragraph("bast.pembuka", "BAST — pembuka",
              "Pada hari ini {hari} tanggal {tanggal_huruf} bulan {bulan} tahun {tahun_huruf}, yang bertanda tangan "
              "di bawah ini:", _WHEN),
    Paragraph("bast.isi", "BAST — isi serah terima",
              "PIHAK PERTAMA menyerahkan kepada PIHAK KEDUA, dan PIHAK KEDUA menerima dari PIHAK PERTAMA, dokumen "
              "usulan data sasaran dan pemutakhiran DTSEN periode {periode} sebagai berikut:", ("periode",)),
    Paragraph("bast.penutup", "BAST — penutup",
              "Demikian Berita Acara Serah Terima ini dibuat dalam rangkap dua untuk dipergunakan sebagaimana "
              "mestinya.", ()),
    Paragraph("pengesahan.judul", "Pengesahan — judul",
              "PENGESAHAN USULAN DATA SASARAN PROGRAM PENGENTASAN KEMISKINAN\n"
              "DAN PEMUTAKHIRAN DTSEN\n{kota_kapital}\nPERIODE {periode_kapital}",
              ("kota_kapital", "periode_kapital")),
    Paragraph("pengesahan.pembuka", "Pengesahan — pertimbangan",
              "Berdasarkan hasil Musyawarah Kelurahan yang telah diajukan oleh para Lurah dan diteruskan oleh para "
              "Camat di wilayah {kota}, dengan ini {jabatan} mengesahkan usulan data sasaran dan pemutakhiran DTSEN "
              "periode {periode} sebanyak {kk} keluarga dan {jiwa} jiwa dari {jumlah_kelurahan} kelurahan, dengan "
              "rekapitulasi dan daftar nama sebagaimana terlampir.",
              ("kota", "periode", "jabatan", "kk", "jiwa", "jumlah_kelurahan")),
    Paragraph("pengesahan.penutup", "Pengesahan — penutup",
              "Usulan yang telah disahkan ini disampaikan kepada Dinas Sosial untuk dimasukkan ke dalam SIKS-NG. "
              "Demikian pengesahan ini dibuat untuk dipergunakan sebagaimana mestinya.", ()),
)
BY_KEY = {p.key: p for p in PARAGRAPHS}


def placeholders_in(text: str) -> list[str]:
    """The placeholder names a text uses; a stray brace is a mistake the admin must fix."""
    try:
        parsed = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise InvalidInput("Tanda kurung kurawal tidak berpasangan. Tulis placeholder sebagai {nama}; "
                           "kurung kurawal biasa ditulis {{ atau }}.", code="template_braces", field="text") from exc
    odd = [name for name, spec, conv in parsed if spec or conv]
    if odd:
        raise InvalidInput(f"Tulis placeholder tanpa format tambahan, misalnya {{{odd[0].split('.')[0]}}}.",
                           code="template_format", field="text")
    return [name for name, _, _ in parsed]


def check(key: str, text: str) -> None:
    """Refuse an empty paragraph and any placeholder the paragraph does not offer, naming both."""
    paragraph = _paragraph(key)
    if not text.strip():
        raise InvalidInput("Teks tidak boleh kosong. Kembalikan ke teks bawaan bila ragu.", code="template_empty",
                           field="text")
    unknown = sorted({n for n in placeholders_in(text) if n not in paragraph.placeholders})
    if unknown:
        offered = ", ".join("{" + p + "}" for p in paragraph.placeholders) or "tidak ada"
        raise InvalidInput(f"Placeholder tidak dikenal: {', '.join('{' + u + '}' for u in unknown)}. "
                           f"Yang tersedia untuk bagian ini: {offered}.", code="template_unknown_placeholder",
                           field="text")


def _paragraph(key: str) -> Paragraph:
    if key not in BY_KEY:
        raise NotFound(f"Bagian teks dokumen '{key}' tidak dikenal.", code="unknown_template")
    return BY_KEY[key]


def texts(session: Session) -> dict[str, str]:
    """The current wording of every paragraph (edited where an admin edited it, otherwise the default)."""
    edited = {row.key: row.text for row in session.exec(select(DocumentText))}
    return {p.key: edited.get(p.key, p.default) for p in PARAGRAPHS}


def list_paragraphs(session: Session) -> list[dict]:
    rows = {row.key: row for row in session.exec(select(DocumentText))}
    return [{"key": p.key, "judul": p.title, "teks": rows[p.key].text if p.key in rows else p.default,
             "bawaan": p.default, "placeholder": list(p.placeholders), "diubah": p.key in rows,
             "version": rows[p.key].version if p.key in rows else 0} for p in PARAGRAPHS]


def update(key: str, text: str, *, expected_version: int, actor: Actor, session: Session) -> None:
    """Store an admin's wording; ``text`` equal to the default removes the override."""
    require(actor, Action.OFFICE_MANAGE, PROVINCE)  # one wording for the whole province
    paragraph = _paragraph(key)
    text = text.replace("\r\n", "\n").strip()
    check(key, text)
    row = session.get(DocumentText, key, with_for_update=True, populate_existing=True)
    if (row.version if row else 0) != expected_version:
        raise StaleEdit("Teks ini telah diubah orang lain sejak dibuka. Muat ulang lalu ulangi.")
    before = row.text if row else paragraph.default
    if text == paragraph.default:
        if row is not None:
            session.delete(row)
    else:
        if row is None:
            row = DocumentText(key=key, text=text, version=0, updated_by=actor.username)
        row.text, row.version, row.updated_by, row.updated_at = text, row.version + 1, actor.username, utcnow()
        session.add(row)
    session.flush()
    audit.record(session, actor, "document_text.updated", object_type="document_text", object_id=key,
                 before={"teks": before}, after={"teks": text})


# Example facts for the admin's preview, in the shape the documents fill them in.
SAMPLE = {"hari": "Kamis", "tanggal": "12 November 2026", "tanggal_huruf": "dua belas", "bulan": "November",
          "tahun": "2026", "tahun_huruf": "dua ribu dua puluh enam", "kelurahan": "Kayu Manis",
          "kecamatan": "Matraman", "kota": "Kota Administrasi Jakarta Timur", "periode": "November 2026",
          "jam_mulai": "09.00", "jam_selesai": "12.30", "tempat": "Aula Kantor Kelurahan Kayu Manis",
          "ketua": "Hendra Gunawan", "notulis": "Sari Wulandari", "jumlah_hadir": "27 (dua puluh tujuh)",
          "kk": "34 (tiga puluh empat)", "jiwa": "112 (seratus dua belas)", "nomor_ba": "001/BA/MUSKEL/XI/2026",
          "alasan": "bencana banjir di seluruh RW", "kelurahan_kapital": "KAYU MANIS",
          "periode_kapital": "NOVEMBER 2026", "kota_kapital": "KOTA ADMINISTRASI JAKARTA TIMUR",
          "jabatan": "Walikota Jakarta Timur", "jumlah_kelurahan": "6 (enam)"}


def preview(key: str, text: str) -> str:
    """The paragraph as it would print with example facts (raises InvalidInput like ``update`` would)."""
    check(key, text)
    return render(text, SAMPLE)


def render(template: str, values: dict) -> str:
    return template.format_map(values)


def lines(text: str) -> list[str]:
    """A list paragraph (legal basis, statement points) as its non-empty lines."""
    return [line.strip() for line in text.splitlines() if line.strip()]
