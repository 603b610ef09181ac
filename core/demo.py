"""Demo accounts for trying Muskel (Kota Administrasi Jakarta Timur, Kecamatan Matraman).

All share the password ``muskel-demo`` and need no password change; while any demo account exists the login
page says so plainly. Running it again changes nothing.
"""

from __future__ import annotations

from sqlmodel import Session, select

from core import accounts, demo_documents, demo_meeting, demo_workflow, demo_register, demo_verification, offices, register
from core.access import Actor
from core.config import load_settings
from core.models import RegisterImport, User

DEMO_PASSWORD = "muskel-demo"

DEMO_ACCOUNTS = [
    # username, nama, role, wilayah, jabatan
    ("operator.kayumanis", "Sari Wulandari", "operator", "31.75.01.1003", "Operator Kelurahan (Kasi Kesra)"),
    ("lurah.kayumanis", "Hendra Gunawan", "lurah", "31.75.01.1003", "Lurah Kayu Manis"),
    ("petugas.kayumanis", "Budi Santoso", "petugas", "31.75.01.1003", "Pekerja Sosial Masyarakat (PSM)"),
    ("lurah.palmeriam", "Dewi Kartika", "lurah", "31.75.01.1004", "Lurah Palmeriam"),
    ("camat.matraman", "Ratna Sari Dewi", "camat", "31.75.01", "Camat Matraman"),
    ("walikota.jaktim", "Staf Walikota Jakarta Timur", "walikota", "31.75", "Kepala Bagian Pemerintahan"),
    ("dinsos.jaktim", "Staf Suku Dinas Sosial Jakarta Timur", "dinsos", "31.75", "Suku Dinas Sosial"),
    ("auditor.jaktim", "Auditor Inspektorat Pembantu Jakarta Timur", "auditor", "31.75", "Auditor"),
    ("admin", "Administrator Muskel", "admin", "31", "Administrator Sistem"),
]

DEMO_OFFICES = {
    "31.75.01.1003": {"alamat": "Jl. Kayu Manis VIII No. 1, Matraman, Jakarta Timur", "telepon": "(021) 8581234",
                      "nama_pimpinan": "Hendra Gunawan", "nip_pimpinan": "197805122005011003",
                      "email": "kel.kayumanis@jakarta.go.id", "kode_pos": "13130"},
    "31.75.01.1004": {"alamat": "Jl. Palmeriam Raya No. 5, Matraman, Jakarta Timur", "telepon": "(021) 8582345",
                      "nama_pimpinan": "Dewi Kartika"},
    "31.75.01": {"alamat": "Jl. Matraman Raya No. 200, Jakarta Timur", "telepon": "(021) 8190123",
                 "nama_pimpinan": "Ratna Sari Dewi", "nip_pimpinan": "197203151998032004"},
    "31.75": {"alamat": "Jl. Dr. Sumarno No. 1, Pulo Gebang, Cakung, Jakarta Timur", "telepon": "(021) 4800001",
              "nama_pimpinan": "Budi Santoso", "nip_pimpinan": "196910101990031005"},
}


def seed(*, actor: Actor, session: Session) -> dict:
    """Create the missing demo accounts and office profiles; returns what was created."""
    created = []
    for username, nama, role, kode, jabatan in DEMO_ACCOUNTS:
        if session.exec(select(User).where(User.username == username)).first():
            continue
        accounts.create_account(
            accounts.NewAccount(username=username, nama=nama, role=role, wilayah_kode=kode, jabatan=jabatan),
            actor=actor, session=session, password=DEMO_PASSWORD, must_change=False, demo=True,
        )
        created.append(username)
    profiles = []
    for kode, values in DEMO_OFFICES.items():
        current = offices.get_profile(kode, session=session)
        if current["version"] == 0:
            offices.update_profile(kode, values, expected_version=0, actor=actor, session=session)
            profiles.append(kode)
    registers = seed_registers(session=session)
    meetings_created = demo_meeting.seed(session=session)
    visits = demo_verification.seed(session=session)
    documents_issued = demo_documents.seed(session=session)
    batches = demo_workflow.seed(session=session)
    return {"documents_finalised": documents_issued, "batches_created": batches, "accounts_created": created, "offices_created": profiles, "registers_imported": registers,
            "meetings_created": meetings_created, "visits_created": visits}


KAYUMANIS, PALMERIAM = "31.75.01.1003", "31.75.01.1004"


def demo_extracts() -> dict[str, object]:
    """The demo DTSEN extracts: Palmeriam, Kayu Manis as it should be, and Kayu Manis as Excel first broke it."""
    kayumanis = demo_register.plant_screening_findings(demo_register.generate(KAYUMANIS, 612, seed=31750103))
    palmeriam = demo_register.generate(PALMERIAM, 150, seed=31750104)
    # Two people registered in both kelurahan: the screening must show it before the Walikota signs.
    for i, source in zip(palmeriam.index[[7, 40]], kayumanis.index[[101, 202]]):
        palmeriam.at[i, "NIK"] = kayumanis.at[source, "NIK"]
    return {"kayumanis": kayumanis, "palmeriam": palmeriam,
            "kayumanis_rusak": demo_register.break_like_excel(kayumanis)}


def seed_registers(*, session: Session) -> list[str]:
    """Import the demo extracts once (Palmeriam first, so Kayu Manis shows the shared NIKs), and leave the files
    in ``$MUSKEL_DATA_DIR/demo/`` for trying the import screen — including the one Excel broke."""
    extracts = demo_extracts()
    folder = load_settings().data_dir / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    title = "Ekstrak DTSEN Kelurahan Kayu Manis — periode 2026-11"
    files = {
        "dtsen_kayumanis_2026-11.xlsx": demo_register.to_xlsx(extracts["kayumanis"], title),
        "dtsen_kayumanis_2026-11_dari_excel_rusak.xlsx": demo_register.to_xlsx(extracts["kayumanis_rusak"], title),
        "dtsen_palmeriam_2026-11.csv": demo_register.to_csv(extracts["palmeriam"], sep=";"),
    }
    for name, data in files.items():
        if not (folder / name).exists():
            (folder / name).write_bytes(data)
    imported = []
    for kode, name, username in ((PALMERIAM, "dtsen_palmeriam_2026-11.csv", "lurah.palmeriam"),
                                 (KAYUMANIS, "dtsen_kayumanis_2026-11.xlsx", "operator.kayumanis")):
        if session.exec(select(RegisterImport.id).where(RegisterImport.kelurahan_kode == kode)).first():
            continue
        actor = accounts.actor_for(accounts.get_user(session, username), channel="cli")
        result = register.import_extract(files[name], name, kode, actor=actor, session=session)
        if not result.imported:
            raise RuntimeError(f"demo extract {name} refused: {result.blocking.head().to_dict('records')}")
        imported.append(kode)
    return imported


def demo_accounts_exist(session: Session) -> bool:
    return session.exec(select(User.id).where(User.is_demo == True)).first() is not None  # noqa: E712
