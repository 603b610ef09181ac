"""Demo accounts for trying Muskel (Kota Administrasi Jakarta Timur, Kecamatan Matraman).

All share the password ``muskel-demo`` and need no password change; while any demo account exists the login
page says so plainly. Running it again changes nothing.
"""

from __future__ import annotations

from sqlmodel import Session, select

from core import accounts, offices
from core.access import Actor
from core.models import User

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
                      "nama_pimpinan": "Hendra Gunawan"},
    "31.75.01.1004": {"alamat": "Jl. Palmeriam Raya No. 5, Matraman, Jakarta Timur", "telepon": "(021) 8582345",
                      "nama_pimpinan": "Dewi Kartika"},
    "31.75.01": {"alamat": "Jl. Matraman Raya No. 200, Jakarta Timur", "telepon": "(021) 8190123",
                 "nama_pimpinan": "Ratna Sari Dewi"},
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
    return {"accounts_created": created, "offices_created": profiles}


def demo_accounts_exist(session: Session) -> bool:
    return session.exec(select(User.id).where(User.is_demo == True)).first() is not None  # noqa: E712
