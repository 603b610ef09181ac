"""The home page (pages/beranda.py) through AppTest, on the SQLite test database.

For the kelurahan: the steps of a period at each stage — no musyawarah, musyawarah open, closed with field
verifications missing, documents not final, scans missing, ready, submitted, returned, forwarded and ratified
— each with its one-sentence detail, its state, and a "Kerjakan" link to the screen that finishes the active
step. For the Camat, the Walikota and the auditor: their dashboards, with the figures checked against plain
SQL.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from core import db, documents, meetings, register, workflow
from core.access import Actor
from core.demo_register import generate, to_csv
from tests.app.conftest import screen_text, seed_login
from tests.unit.test_dashboard import add_new, decide, kk_for, new_members, open_meeting
from tests.unit.test_workflow import PDF_SCAN, PERIODE, WAIVER

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

KEL, KEL_OTHER_KEC = "31.75.01.1003", "31.75.02.1001"  # Kayu Manis (Matraman), Pulo Gadung (Pulogadung)
KEC, KOTA = "31.75.01", "31.75"
MEMBERS = (2, 3, 1, 2)  # four new families; a fifth (1 member) is deferred
STEP = re.compile(r"\*\*(\d)\. (.+?)\*\* — (\w+)  \n(.*)", re.DOTALL)


# ---------------------------------------------------------------- cast and data

@pytest.fixture
def cast(sqlite_only, make_account) -> dict[str, Actor]:
    spec = {"operator": ("operator", KEL), "lurah": ("lurah", KEL), "camat": ("camat", KEC),
            "walikota": ("walikota", KOTA), "auditor": ("auditor", KOTA),
            "op_other": ("operator", KEL_OTHER_KEC)}
    return {name: make_account(sqlite_only, f"{name}.home", role, kode, nama=f"{name.title()} Uji")
            for name, (role, kode) in spec.items()}


def import_register(actor: Actor) -> None:
    with db.session_scope() as s:
        register.import_extract(to_csv(generate(KEL, 3, seed=5)), "dtsen.csv", KEL, actor=actor, session=s)


def meeting_with_items(p: dict[str, Actor]) -> tuple[int, list[int], int]:
    """An open musyawarah of Kayu Manis with four new families and a fifth, nothing decided yet."""
    mid = open_meeting(None, p["operator"], KEL)
    items = [add_new(None, p["operator"], mid, kk_for("317501", 30 + n), new_members("317501", 30 + n, m))
             for n, m in enumerate(MEMBERS)]
    deferred = add_new(None, p["operator"], mid, kk_for("317501", 39), new_members("317501", 39, 1))
    return mid, items, deferred


def close(p, mid: int, items: list[int], deferred: int, *, decided: tuple[int, ...] = ()) -> None:
    decide(None, p["operator"], {**{i: "disepakati" for i in items if i not in decided}, deferred: "ditunda"})
    with db.session_scope() as s:
        meetings.close_meeting(mid, confirm_without_quorum=False, actor=p["lurah"], session=s)


def waive(p, items: list[int]) -> None:
    with db.session_scope() as s:
        for item in items:
            workflow.waive_verification(item, WAIVER, actor=p["lurah"], session=s)


def finalise(p, mid: int, doc_type: str, *, scan: bool = True) -> int:
    with db.session_scope() as s:
        doc_id = documents.finalise(doc_type, {"meeting_id": mid}, actor=p["lurah"], session=s)["id"]
    if scan:
        upload(p, doc_id, doc_type)
    return doc_id


def upload(p, doc_id: int, doc_type: str) -> None:
    with db.session_scope() as s:
        documents.upload_scan(doc_id, PDF_SCAN + doc_type.encode(), f"{doc_type}.pdf", actor=p["operator"],
                              session=s)


def ready_batch(p) -> int:
    """A Kayu Manis batch ready to submit; returns its id."""
    mid, items, deferred = meeting_with_items(p)
    close(p, mid, items, deferred)
    waive(p, items)
    for doc_type in ("berita_acara", "sptjm", "bast_kelurahan"):
        finalise(p, mid, doc_type)
    with db.session_scope() as s:
        return workflow.batch_id_for_meeting(mid, actor=p["lurah"], session=s)


def act(actor: Actor, bid: int, action: str, **kwargs) -> None:
    with db.session_scope() as s:
        workflow.act(bid, action, actor=actor, session=s, **kwargs)


def sql(query: str, **params):
    with db.session_scope() as s:
        return s.connection().execute(sa.text(query), params).all()


# ---------------------------------------------------------------- reading the home page

def home(new_app, actor: Actor, period_key: str = "home_period") -> AppTest:
    """The home page of ``actor`` with the period set to PERIODE (a widget on the page)."""
    at = seed_login(new_app(), actor)
    at.run()
    assert not at.exception, at.exception
    at.text_input(key=period_key).input(PERIODE).run()
    check_clean(at)
    return at


def check_clean(at: AppTest) -> None:
    assert not at.exception, at.exception
    text = screen_text(at)
    assert "Terjadi kesalahan yang tidak terduga" not in text
    assert at.title and at.title[0].value.startswith("Selamat datang")


def steps(at: AppTest) -> dict[str, tuple[str, str]]:
    """{title: (state, detail)} of the numbered steps, in page order (numbers checked to run 1, 2, 3, …)."""
    found = []
    for md in at.markdown:
        m = STEP.search(md.value)
        if m:
            found.append((int(m.group(1)), m.group(2), m.group(3), m.group(4)))
    assert [n for n, *_ in found] == list(range(1, len(found) + 1)), found
    return {title: (state, detail) for _, title, state, detail in found}


def work_links(at: AppTest) -> list[str]:
    """The pages the "Kerjakan" buttons lead to, in page order."""
    return [link.proto.page for link in at.get("page_link") if link.proto.label == "Kerjakan"]


def active(s: dict[str, tuple[str, str]]) -> list[str]:
    return [title for title, (state, _) in s.items() if state in ("berjalan", "perhatian")]


def assert_links(at: AppTest, expected_pages: list[str]) -> None:
    """A page link carries the page's URL path, which st.navigation derives from the file name."""
    assert work_links(at) == [Path(page).stem for page in expected_pages]


MUSYAWARAH, VERIFIKASI, DOKUMEN, PINDAIAN = ("Musyawarah diadakan dan ditutup", "Verifikasi lapangan selesai",
                                             "Dokumen difinalkan", "Pindaian bertanda tangan diunggah")
AJUKAN, CAMAT, SAHKAN = "Diajukan ke Camat", "Ditinjau Camat", "Disahkan Walikota/Bupati"
# The documents' names as the steps print them (written out, not read from core.doc_numbers).
BA, SPTJM, BAST = ("Berita Acara Musyawarah Kelurahan", "Surat Pernyataan Tanggung Jawab Mutlak (SPTJM)",
                   "BAST Lurah kepada Camat")


# ================================================================ 4. the kelurahan's steps

def test_kelurahan_steps_through_a_whole_period(cast, new_app):
    """Guards the Lurah's home at every stage of a period: the sentence that says what is left (with the right
    numbers), the state of each step, and the "Kerjakan" link of each active step."""
    p = cast
    import_register(p["operator"])
    at = home(new_app, p["lurah"])

    s = steps(at)  # 1. no musyawarah yet
    assert s["Data DTSEN dimuat"][0] == "selesai"
    assert s[MUSYAWARAH][0] == "berjalan" and "Belum ada musyawarah periode ini" in s[MUSYAWARAH][1]
    assert all(s[t][0] == "menunggu" for t in (VERIFIKASI, DOKUMEN, PINDAIAN, AJUKAN, CAMAT, SAHKAN))
    assert_links(at, ["pages/musyawarah.py"])

    mid, items, deferred = meeting_with_items(p)  # 2. musyawarah open, one item decided
    decide(None, p["operator"], {items[0]: "disepakati"})
    at.run()
    check_clean(at)
    s = steps(at)
    undecided = sql("SELECT COUNT(*) FROM proposal WHERE musyawarah_id = :m AND keputusan = '' "
                    "AND status <> 'dibatalkan'", m=mid)[0][0]
    assert undecided == 4
    assert s[MUSYAWARAH] == ("berjalan", (f"Musyawarah sedang berjalan; {undecided} usulan belum diputuskan. "
                                          "Lurah menutupnya sesudah semua diputuskan."))
    assert_links(at, ["pages/rapat_usulan.py"])

    close(p, mid, items, deferred, decided=(items[0],))  # 3. closed; one of four verifications waived
    waive(p, items[:1])
    at.run()
    check_clean(at)
    s = steps(at)
    total = sql("SELECT COUNT(*) FROM proposal WHERE musyawarah_id = :m AND keputusan = 'disepakati' "
                "AND status = 'diusulkan'", m=mid)[0][0]
    missing = sql("SELECT COUNT(*) FROM proposal WHERE musyawarah_id = :m AND keputusan = 'disepakati' "
                  "AND status = 'diusulkan' AND jenis = 'baru' AND verification_waiver = ''", m=mid)[0][0]
    assert (missing, total) == (3, 4)
    assert s[MUSYAWARAH][0] == "selesai"
    assert s[VERIFIKASI] == ("berjalan", f"{missing} dari {total} keluarga belum diverifikasi.")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Verifikasi selesai"] == f"{total - missing} / {total}"
    assert_links(at, ["pages/penugasan.py", "pages/dokumen.py"])

    waive(p, items[1:])  # 4. verifications done, no document final
    at.run()
    s = steps(at)
    assert s[VERIFIKASI][0] == "selesai"
    assert s[DOKUMEN] == ("berjalan", f"Belum final: {BA}, {SPTJM}, {BAST}.")
    assert s[PINDAIAN] == ("menunggu", "Menunggu dokumen final.")
    assert s[AJUKAN][0] == "menunggu"
    assert_links(at, ["pages/dokumen.py"])

    finalise(p, mid, "berita_acara")  # 5. BA final and scanned; SPTJM final without its scan
    sptjm = finalise(p, mid, "sptjm", scan=False)
    at.run()
    s = steps(at)
    assert s[DOKUMEN] == ("berjalan", f"Belum final: {BAST}.")
    assert s[PINDAIAN] == ("berjalan", f"Pindaian {SPTJM} belum diunggah.")
    assert_links(at, ["pages/dokumen.py", "pages/dokumen.py"])

    upload(p, sptjm, "sptjm")  # 6. everything final and scanned: ready
    finalise(p, mid, "bast_kelurahan")
    at.run()
    s = steps(at)
    assert [s[t][0] for t in (MUSYAWARAH, VERIFIKASI, DOKUMEN, PINDAIAN)] == ["selesai"] * 4
    assert s[AJUKAN] == ("berjalan", "Siap diajukan: Lurah menekan Ajukan.")
    assert active(s) == [AJUKAN]
    assert_links(at, ["pages/pengajuan.py"])

    with db.session_scope() as session:  # 7. submitted
        bid = workflow.batch_id_for_meeting(mid, actor=p["lurah"], session=session)
    act(p["lurah"], bid, "ajukan")
    at.run()
    check_clean(at)
    s = steps(at)
    assert s[AJUKAN][0] == "selesai" and s[AJUKAN][1].startswith("Diajukan ")
    assert s[CAMAT] == ("berjalan", "Menunggu tinjauan Camat.")
    assert s[SAHKAN][0] == "menunggu"
    assert_links(at, ["pages/pengajuan.py"])

    act(p["camat"], bid, "teruskan")  # 8. forwarded
    at.run()
    s = steps(at)
    assert s[CAMAT][0] == "selesai" and s[SAHKAN] == ("berjalan", "Menunggu pengesahan Walikota/Bupati.")
    assert_links(at, ["pages/pengajuan.py"])

    act(p["walikota"], bid, "sahkan")  # 9. ratified: every step done, nothing left to do
    at.run()
    check_clean(at)
    s = steps(at)
    assert s[SAHKAN] == ("selesai", "Disahkan.")
    assert all(state == "selesai" for state, _ in s.values()), s
    assert work_links(at) == []


def test_kelurahan_steps_after_a_return(cast, new_app):
    """Guards the returned batch: the Camat's step turns to "perhatian" with "Dikembalikan Camat" and a link
    to Pengajuan (where the reason and the revision are); the steps before it stay done."""
    p = cast
    import_register(p["operator"])
    bid = ready_batch(p)
    act(p["lurah"], bid, "ajukan")
    act(p["camat"], bid, "kembalikan", reason="Lampiran SPTJM belum lengkap")
    at = home(new_app, p["operator"])
    s = steps(at)
    assert s[CAMAT][0] == "perhatian" and s[CAMAT][1].startswith("Dikembalikan Camat")
    assert [s[t][0] for t in (MUSYAWARAH, VERIFIKASI, DOKUMEN, PINDAIAN, AJUKAN)] == ["selesai"] * 5
    assert s[SAHKAN][0] == "menunggu"
    assert active(s) == [CAMAT]
    assert_links(at, ["pages/pengajuan.py"])
    assert "Lampiran SPTJM belum lengkap" in screen_text(at)  # the inbox names the reason


def test_period_without_musyawarah_needs_only_sptjm_and_bast(cast, new_app):
    """Guards the not-held path: after the Lurah's statement the steps skip the verification and ask for the
    SPTJM and the BAST only."""
    p = cast
    import_register(p["operator"])
    with db.session_scope() as s:
        meetings.record_not_held(KEL, PERIODE, "Tidak ada usulan warga bulan ini", actor=p["lurah"],
                                 session=s)
    at = home(new_app, p["lurah"])
    s = steps(at)
    assert s[MUSYAWARAH] == ("selesai", "Pernyataan musyawarah tidak diadakan tercatat.")
    assert VERIFIKASI not in s
    assert s[DOKUMEN] == ("berjalan", f"Belum final: {SPTJM}, {BAST}.")
    assert_links(at, ["pages/dokumen.py"])


# ================================================================ 5. the reviewers' and the auditor's homes

def test_camat_walikota_and_auditor_homes(cast, new_app):
    """Guards the other dashboards: the Camat's table lists his kecamatan's kelurahan only (with the submitted
    batch and its KK/jiwa), the Walikota's "Kelurahan mengajukan" is submitted/total of the kota, and the
    auditor's home renders with the chain's last check."""
    p = cast
    bid = ready_batch(p)
    act(p["lurah"], bid, "ajukan")
    mid = open_meeting(None, p["op_other"], KEL_OTHER_KEC)  # Pulogadung: must not appear at the Camat's
    item = add_new(None, p["op_other"], mid, kk_for("317502", 50), new_members("317502", 50, 2))
    decide(None, p["op_other"], {item: "disepakati"})

    at = home(new_app, p["camat"], "dash_period")
    [table] = [df.value for df in at.dataframe if "Kelurahan" in df.value.columns]
    names = sql("SELECT nama FROM wilayah WHERE tingkat = 'kelurahan' AND kode LIKE :k ORDER BY kode",
                k=KEC + ".%")
    assert list(table["Kelurahan"]) == [n for (n,) in names]
    assert set(table["Kecamatan"]) == {"Matraman"}
    assert "Pulo Gadung" not in set(table["Kelurahan"])
    kk, jiwa = sql("SELECT COUNT(DISTINCT p.no_kk), COUNT(DISTINCT m.nik) FROM proposal p "
                   "JOIN proposalmember m ON m.proposal_id = p.id "
                   "WHERE p.kelurahan_kode = :k AND p.periode = :per AND "
                   "p.keputusan = 'disepakati' AND p.status IN ('diusulkan', 'diteruskan', 'disahkan')",
                   k=KEL, per=PERIODE)[0]
    row = table[table["Kelurahan"] == "Kayu Manis"].iloc[0]
    assert (row["Musyawarah"], row["Status"], row["KK"], row["Jiwa"]) == \
        ("diadakan", "Diajukan ke Camat", kk, jiwa)
    assert (kk, jiwa) == (4, 8)
    others = table[table["Kelurahan"] != "Kayu Manis"]
    assert set(others["Status"]) == {"belum ada pengajuan"} and set(others["KK"]) == {0}

    at = home(new_app, p["walikota"], "dash_period")
    total = sql("SELECT COUNT(*) FROM wilayah WHERE tingkat = 'kelurahan' AND kode LIKE :k",
                k=KOTA + ".%")[0][0]
    submitted = sql("SELECT COUNT(DISTINCT kelurahan_kode) FROM batch WHERE periode = :p "
                    "AND state <> 'draft' AND kelurahan_kode LIKE :k", p=PERIODE, k=KOTA + ".%")[0][0]
    metrics = {m.label: m.value for m in at.metric}
    assert (submitted, total > 10) == (1, True)
    assert metrics["Kelurahan mengajukan"] == f"{submitted} / {total}"
    assert metrics["NIK ganda antarkelurahan"] == "0"

    at = seed_and_run(new_app, p["auditor"])
    check_clean(at)
    text = screen_text(at)
    assert "Aktivitas 60 hari terakhir" in text and "Pengembalian dan penolakan" in text
    assert "Pemeriksaan rantai log audit terakhir: belum pernah" in text
    assert "Langkah periode ini" not in text


def seed_and_run(new_app, actor: Actor) -> AppTest:
    at = seed_login(new_app(), actor)
    at.run()
    return at
