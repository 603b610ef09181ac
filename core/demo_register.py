"""Generated DTSEN extracts: realistic-looking families with NIKs built on the NIK structure.

Used by ``muskel seed-demo`` (Kayu Manis and Palmeriam, with a handful of planted problems that the screening
shows), by the tests and by the benchmarks (any size). Deterministic for a given seed. Nobody here is real.
"""

from __future__ import annotations

import io
import random
from datetime import date, timedelta

import pandas as pd

FIRST_M = ["Agus", "Budi", "Hendra", "Joko", "Rahmat", "Slamet", "Andi", "Dedi", "Eko", "Fajar", "Hasan", "Irwan",
           "Maman", "Nur", "Rudi", "Supri", "Taufik", "Wahyu", "Yusuf", "Zainal", "Bambang", "Darto", "Herman"]
FIRST_F = ["Siti", "Sri", "Dewi", "Nur", "Rina", "Ani", "Wati", "Yuni", "Lestari", "Fitri", "Ratna", "Sari", "Tuti",
           "Endang", "Kartini", "Maryam", "Nining", "Rohani", "Suminah", "Wulan", "Aisyah", "Indah", "Juleha"]
LAST = ["Santoso", "Wijaya", "Hidayat", "Saputra", "Rahayu", "Kurniawan", "Setiawan", "Pratama", "Susanti",
        "Hasibuan", "Siregar", "Nasution", "Simanjuntak", "Lubis", "Harahap", "Rohmah", "Maulana", "Purnomo"]
STREETS = ["Jl. Kayu Manis", "Jl. Pramuka Sari", "Jl. Matraman Dalam", "Gg. Haji Ridi", "Jl. Tegalan",
           "Jl. Palmeriam", "Gg. Mushola", "Jl. Kebon Kelapa"]
COLUMNS = ["ID DTSEN", "No KK", "NIK", "Nama", "Jenis Kelamin", "Tanggal Lahir", "Hubungan Keluarga", "Alamat",
           "RT", "RW", "Desil", "Pekerjaan"]


def nik_for(region6: str, born: date, female: bool, serial: int) -> str:
    day = born.day + (40 if female else 0)
    return f"{region6}{day:02d}{born.month:02d}{born.year % 100:02d}{serial % 10000:04d}"


def generate(kelurahan_kode: str, families: int, *, seed: int = 2026, id_prefix: str = "DT") -> pd.DataFrame:
    """An extract of ``families`` families (about 3.3 persons each) in the kelurahan's kecamatan."""
    rng = random.Random(seed)
    region6 = kelurahan_kode.replace(".", "")[:6]
    serial = rng.randrange(1, 3000)
    today = date(2026, 11, 1)
    rows = []
    for f in range(families):
        serial += 1
        issued = today - timedelta(days=rng.randrange(200, 6000))
        kk = f"{region6}{issued.day:02d}{issued.month:02d}{issued.year % 100:02d}{serial % 10000:04d}"
        desil = rng.choices(range(1, 11), weights=[16, 15, 13, 12, 10, 9, 8, 7, 5, 5])[0]
        rt, rw = rng.randrange(1, 13), rng.randrange(1, 9)
        address = f"{rng.choice(STREETS)} No. {rng.randrange(1, 120)}"
        last = rng.choice(LAST)
        head_born = today - timedelta(days=rng.randrange(23 * 365, 70 * 365))
        members = [("KEPALA KELUARGA", False, head_born)]
        if rng.random() < 0.85:
            members.append(("ISTRI", True, head_born + timedelta(days=rng.randrange(-5 * 365, 8 * 365))))
        for _ in range(rng.choices([0, 1, 2, 3, 4], weights=[15, 25, 30, 20, 10])[0]):
            child_born = head_born + timedelta(days=rng.randrange(20 * 365, 45 * 365))
            if child_born < today:
                members.append(("ANAK", rng.random() < 0.5, child_born))
        for relation, female, born in members:
            serial += 1
            first = rng.choice(FIRST_F if female else FIRST_M)
            rows.append({
                "ID DTSEN": f"{id_prefix}{kelurahan_kode.replace('.', '')}{f:05d}", "No KK": kk,
                "NIK": nik_for(region6, born, female, serial), "Nama": f"{first} {last}".upper(),
                "Jenis Kelamin": "P" if female else "L", "Tanggal Lahir": born.strftime("%d/%m/%Y"),
                "Hubungan Keluarga": relation, "Alamat": address, "RT": f"{rt:03d}", "RW": f"{rw:03d}",
                "Desil": str(desil), "Pekerjaan": rng.choice(["BURUH HARIAN LEPAS", "PEDAGANG", "MENGURUS RUMAH TANGGA",
                                                             "WIRASWASTA", "TIDAK BEKERJA", "PENGEMUDI OJEK"])
                if relation != "ANAK" else "PELAJAR",
            })
    return pd.DataFrame(rows, columns=COLUMNS)


def plant_screening_findings(frame: pd.DataFrame) -> pd.DataFrame:
    """The walkthrough's warnings: two Bekasi KTPs, a child older than the head, a civil servant, a car owner."""
    frame = frame.copy()
    wives = frame.index[frame["Hubungan Keluarga"] == "ISTRI"]
    for i in wives[:2]:
        frame.at[i, "NIK"] = "3275" + frame.at[i, "NIK"][4:]  # Kota Bekasi
    families_with_child = frame.loc[frame["Hubungan Keluarga"] == "ANAK", "No KK"].unique()
    kk = families_with_child[3]
    head = frame.index[(frame["No KK"] == kk) & (frame["Hubungan Keluarga"] == "KEPALA KELUARGA")][0]
    child = frame.index[(frame["No KK"] == kk) & (frame["Hubungan Keluarga"] == "ANAK")][0]
    head_born = pd.to_datetime(frame.at[head, "Tanggal Lahir"], format="%d/%m/%Y").date()
    typo = head_born.replace(year=head_born.year - 1)
    female = int(frame.at[child, "NIK"][6:8]) > 40
    frame.at[child, "Tanggal Lahir"] = typo.strftime("%d/%m/%Y")
    frame.at[child, "NIK"] = nik_for(frame.at[child, "NIK"][:6], typo, female, int(frame.at[child, "NIK"][-4:]))
    heads = frame.index[frame["Hubungan Keluarga"] == "KEPALA KELUARGA"]
    frame.at[heads[10], "Pekerjaan"] = "PNS"
    return frame


def break_like_excel(frame: pd.DataFrame) -> pd.DataFrame:
    """The extract as it first arrives: four NIKs turned into 3.17501E+15 and one NIK in two KKs."""
    broken = frame.copy()
    for i in broken.index[5:9]:
        broken.at[i, "NIK"] = f"{float(broken.at[i, 'NIK']):.5E}".replace("E+0", "E+").replace("00000E", "E")
    other_family = broken.index[broken["No KK"] != broken.at[broken.index[20], "No KK"]][-1]
    broken.at[other_family, "NIK"] = broken.at[broken.index[20], "NIK"]
    return broken


def to_xlsx(frame: pd.DataFrame, title: str | None = None) -> bytes:
    """An XLSX with every cell as text (as a careful operator would save it), optionally under a title row."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, startrow=2 if title else 0, sheet_name="DTSEN")
        if title:
            writer.sheets["DTSEN"].cell(row=1, column=1, value=title)
    return buffer.getvalue()


def to_csv(frame: pd.DataFrame, sep: str = ",", encoding: str = "utf-8") -> bytes:
    return frame.to_csv(index=False, sep=sep).encode(encoding)
