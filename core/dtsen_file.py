"""Reading a DTSEN extract (CSV or XLSX) into text columns, and recognising its column names.

Extracts differ: comma or semicolon, UTF-8 or Windows-1252, a title row above the header, column names spelt in
many ways, and NIKs that Excel turned into numbers. This module only reads and maps; judging the content is
``core.screening`` and ``core.register``'s job. Row numbers are the ones the spreadsheet shows (header = its row).

Before anything is parsed, ``check_limits`` refuses a file larger than ``MUSKEL_IMPORT_MAX_MB`` or with more rows
than ``MUSKEL_IMPORT_MAX_ROWS`` (someone uploading the whole province instead of their kelurahan): the rows are
counted in a streaming pass over bytes (CSV lines; the first worksheet's ``<row>`` elements of an XLSX, every
entry of which is inflated once in chunks, so a workbook that is a ZIP bomb is refused too) — pandas never sees it.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import BinaryIO

import pandas as pd
import python_calamine

from core.config import load_settings
from core.errors import InvalidInput
from core.timefmt import angka

# Muskel's fields and the column names seen in extracts (compared without case, spaces or punctuation).
FIELD_SYNONYMS: dict[str, tuple[str, ...]] = {
    "no_kk": ("nokk", "nomorkk", "kk", "nkk", "nokartukeluarga", "nomorkartukeluarga", "kartukeluarga"),
    "nik": ("nik", "nomornik", "noktp", "nomorktp", "nikart", "nomorindukkependudukan", "ktp"),
    "nama": ("nama", "namalengkap", "namaart", "namaanggota", "namaanggotakeluarga", "namaanggotart"),
    "id_dtsen": ("iddtsen", "idkeluargadtsen", "idkeluarga", "dtsenid"),
    "jenis_kelamin": ("jeniskelamin", "jk", "kelamin", "sex", "lp"),
    "tanggal_lahir": ("tanggallahir", "tgllahir", "tgllhr", "tanggallhr", "tgllahirart"),
    "hubungan": ("hubungankeluarga", "hubungan", "shdk", "hubungandengankepalakeluarga", "statushubungan",
                 "hubkel", "statusdalamkeluarga"),
    "alamat": ("alamat", "alamatlengkap", "alamatrumah"),
    "rt": ("rt", "nort"),
    "rw": ("rw", "norw"),
    "desil": ("desil", "desilnasional", "peringkatdesil", "desilkesejahteraan"),
    "pekerjaan": ("pekerjaan", "pekerjaanutama", "jenispekerjaan"),
    "punya_mobil": ("mobil", "punyamobil", "kepemilikanmobil", "asetmobil", "memilikimobil"),
    "njop": ("njop", "nilainjop", "njoprumah", "njopbangunan"),
}
FIELD_LABELS = {
    "no_kk": "No KK", "nik": "NIK", "nama": "Nama", "id_dtsen": "ID DTSEN", "jenis_kelamin": "Jenis kelamin",
    "tanggal_lahir": "Tanggal lahir", "hubungan": "Hubungan keluarga", "alamat": "Alamat", "rt": "RT", "rw": "RW",
    "desil": "Desil", "pekerjaan": "Pekerjaan", "punya_mobil": "Memiliki mobil", "njop": "NJOP rumah",
}
REQUIRED = ("no_kk", "nik", "nama")
IDENTITY_FIELDS = ("no_kk", "nik")
_HEADER_SEARCH_ROWS = 15


def normalise_name(name: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


_LOOKUP = {syn: fieldname for fieldname, syns in FIELD_SYNONYMS.items() for syn in syns}


def recognise(columns: list[str]) -> dict[str, str]:
    """{source column: Muskel field} for the columns whose names are recognised (first match wins)."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for column in columns:
        target = _LOOKUP.get(normalise_name(column))
        if target and target not in taken:
            mapping[column] = target
            taken.add(target)
    return mapping


@dataclass
class Extract:
    """An extract read as text: one row per person, original column names, spreadsheet row numbers."""

    frame: pd.DataFrame  # every cell a stripped string ("" when empty); blank rows already left out
    header_row: int  # spreadsheet row of the header (1 for a plain CSV)
    row_numbers: pd.Series  # the spreadsheet row of every data row (blank rows keep their numbers counted)
    numeric_cells: dict[str, pd.Series] = field(default_factory=dict)  # column -> True where Excel held a number
    filename: str = ""

    @property
    def first_data_row(self) -> int:
        return self.header_row + 1

    def sheet_rows(self) -> pd.Series:
        """The spreadsheet row number of every data row."""
        return self.row_numbers


def read(data: bytes, filename: str) -> Extract:
    """Read CSV or XLSX bytes (decided by content, not by the name); too large files are refused first."""
    if not data or not data.strip():
        raise InvalidInput("Berkas kosong: tidak ada header maupun baris data.", code="file_empty", field="berkas")
    check_limits(io.BytesIO(data), len(data))
    if data[:4] == b"PK\x03\x04":
        extract = _read_xlsx(data)
    else:
        extract = _read_csv(data)
    extract.filename = filename
    if extract.frame.empty:
        raise InvalidInput("Berkas hanya berisi header, tanpa baris data.", code="file_no_rows", field="berkas")
    return extract


# --- limits, checked before parsing ---------------------------------------------------------------------------

_CHUNK = 1 << 20
_XLSX_INFLATED_MAX = 1 << 30  # 1 GiB of XML: ~25× a 100,000-person sheet; more is a ZIP bomb, not an extract
_ROOT_TAG = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?worksheet[\s>]")
_SPLIT_ADVICE = ("Satu kelurahan paling banyak sekitar 100.000 orang: pisahkan berkas per kelurahan (misalnya "
                 "saring kolom kode kelurahan di Excel lalu simpan sebagai berkas baru), kemudian impor berkas "
                 "kelurahan Anda saja.")


def check_limits(source: BinaryIO, size: int, *, max_mb: int | None = None, max_rows: int | None = None) -> None:
    """Refuse an extract larger than the size limit or with more data rows than the row limit, reading ``source``
    in chunks (memory stays at a few megabytes whatever the file holds). Leaves ``source`` at its start."""
    settings = load_settings()
    max_mb = settings.import_max_mb if max_mb is None else max_mb
    max_rows = settings.import_max_rows if max_rows is None else max_rows
    if size > max_mb * 1024 * 1024:
        raise InvalidInput(f"Berkas terlalu besar: {angka(round(size / 1024 / 1024, 1))} MB, sedangkan batasnya "
                           f"{angka(max_mb)} MB. Ekstrak satu kelurahan biasanya di bawah 20 MB. " + _SPLIT_ADVICE,
                           code="file_too_large", field="berkas")
    head = source.read(4)
    source.seek(0)
    if head == b"PK\x03\x04":
        rows = _xlsx_rows(source, max_rows)
    else:
        rows = _csv_rows(source, max_rows)
    source.seek(0)
    if rows > max_rows:
        raise InvalidInput(f"Berkas ini berisi lebih dari {angka(max_rows)} baris data, batas Muskel untuk satu "
                           "ekstrak kelurahan; tidak ada yang dibaca atau disimpan. " + _SPLIT_ADVICE,
                           code="too_many_rows", field="berkas")


def _csv_rows(source: BinaryIO, max_rows: int) -> int:
    """Data lines after the header (blank lines and newlines inside quotes count too: an upper bound), counted
    until the limit is passed. Lines end in LF, CRLF or a lone CR (old Mac files), so the larger count wins."""
    lf = cr = 0
    last = b"\n"
    while chunk := source.read(_CHUNK):
        lf += chunk.count(b"\n")
        cr += chunk.count(b"\r")
        last = chunk[-1:]
        if max(lf, cr) - 1 > max_rows:
            return max(lf, cr) - 1
    lines = max(lf, cr) + (last not in (b"\n", b"\r"))  # a last line without a line end
    return max(0, lines - 1)


def _xlsx_rows(source: BinaryIO, max_rows: int) -> int:
    """``<row>`` elements of the first worksheet minus the header (an upper bound: a title row counts too).

    Every entry is inflated once, in chunks, with zipfile checking each against its declared size and CRC; more
    than 1 GiB of content in all is refused as a ZIP bomb. calamine (which reads the workbook afterwards) is only
    reached by a workbook that passed.
    """
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError):
        return 0  # not a workbook after all: the reader says so
    bomb = InvalidInput("Berkas XLSX ini mengembang terlalu besar saat dibuka (kemungkinan bom ZIP), sehingga "
                        "ditolak. Buka di Excel lalu simpan ulang sebagai .xlsx, atau gunakan CSV.",
                        code="file_too_large", field="berkas")
    with archive:
        infos = archive.infolist()
        if sum(i.file_size for i in infos) > _XLSX_INFLATED_MAX or len(infos) > 10_000:
            raise bomb
        sheet = _first_sheet(archive)
        rows, inflated, row_tags = 0, 0, None
        for info in infos:
            if info.is_dir():
                continue
            tail = b""
            try:
                with archive.open(info) as member:
                    while chunk := member.read(_CHUNK):
                        inflated += len(chunk)
                        if inflated > _XLSX_INFLATED_MAX:
                            raise bomb
                        if info.filename == sheet:
                            window = tail + chunk
                            if row_tags is None:  # <row …> or <x:row …>, as the root element spells it
                                root = _ROOT_TAG.search(window[:4096])
                                prefix = (root.group(1) + b":") if root and root.group(1) else b""
                                row_tags = b"<" + prefix + b"row"
                            # One bytes.count per chunk (a regex takes ten times as long); ``<rowBreaks>``
                            # matches too, at most once: still an upper bound. A tag cut by the chunk border is
                            # found in the window (the tail's own tags were counted before).
                            rows += window.count(row_tags) - tail.count(row_tags)
                            tail = window[-32:]
                            if rows - 1 > max_rows:
                                return rows - 1
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError):
                # A lying size, a bad CRC, encryption: calamine will not read it either.
                raise InvalidInput("Berkas XLSX rusak atau terenkripsi. Buka di Excel lalu simpan ulang sebagai "
                                   ".xlsx (tanpa kata sandi).", code="file_unreadable", field="berkas") from None
    return max(0, rows - 1)


def _first_sheet(archive: zipfile.ZipFile) -> str:
    """The part name of the workbook's first sheet (the one pandas reads), from workbook.xml and its rels."""
    names = set(archive.namelist())
    try:
        workbook = archive.read("xl/workbook.xml")[:_CHUNK] if "xl/workbook.xml" in names else b""
        rels = archive.read("xl/_rels/workbook.xml.rels")[:_CHUNK] if "xl/_rels/workbook.xml.rels" in names else b""
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError):
        workbook = rels = b""
    first = re.search(rb"<(?:\w+:)?sheet\b[^>]*?\b\w+:id=\"([^\"]+)\"", workbook)
    if first:
        for rel in re.finditer(rb"<(?:\w+:)?Relationship\b[^>]*>", rels):
            tag = rel.group(0)
            if re.search(rb"\bId=\"" + re.escape(first.group(1)) + rb"\"", tag):
                target = re.search(rb"\bTarget=\"([^\"]+)\"", tag)
                if target:
                    path = target.group(1).decode("utf-8", "replace").lstrip("/")
                    return path if path.startswith("xl/") else f"xl/{path}"
    sheets = sorted(n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml"))
    return sheets[0] if sheets else ""


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _read_csv(data: bytes) -> Extract:
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    sep = ";" if first_line.count(";") > first_line.count(",") else ","
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skip_blank_lines=False,
                            quoting=csv.QUOTE_MINIMAL)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InvalidInput(f"Berkas CSV tidak dapat dibaca: {exc}. Simpan ulang sebagai CSV (UTF-8).",
                           code="file_unreadable", field="berkas") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.apply(lambda col: col.str.strip())
    numbers = pd.Series(frame.index + 2, index=frame.index)  # the header is row 1
    keep = (frame != "").any(axis=1)
    frame, numbers = frame[keep].reset_index(drop=True), numbers[keep].reset_index(drop=True)
    return Extract(frame=frame, header_row=1, row_numbers=numbers)


def _read_xlsx(data: bytes) -> Extract:
    """The first worksheet through python-calamine, as lists of cells (pandas' ``read_excel`` would convert every
    cell once more and infer types we then undo: ~1.5 s of a 100,000-person workbook spent on nothing)."""
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        raw = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook gets the same advice
        raise InvalidInput("Berkas XLSX tidak dapat dibaca. Buka di Excel lalu simpan ulang sebagai .xlsx.",
                           code="file_unreadable", field="berkas") from exc
    header_index = _find_header(raw)
    header = [str(v).strip() if not _is_blank(v) else f"kolom_{i + 1}"
              for i, v in enumerate(raw[header_index] if raw else [])]
    body = raw[header_index + 1:]
    numbers = pd.Series(range(header_index + 2, header_index + 2 + len(body)))  # raw row i is sheet row i + 1
    cells_by_column = list(zip(*body)) if body else [() for _ in header]
    numeric: dict[str, pd.Series] = {}
    columns: dict[str, pd.Series] = {}
    for column, cells in zip(header, cells_by_column):
        if set(map(type, cells)) <= {str}:
            # Only text (or empty) cells, as in nearly every column: stripped column-wise.
            columns[column] = pd.Series(cells, dtype="str").str.strip()
            continue
        # Mixed columns go cell by cell through the rules for numbers, dates and text.
        is_number = pd.Series([type(v) is not str and isinstance(v, (int, float)) and not isinstance(v, bool)
                               and v == v for v in cells], dtype=bool)
        if is_number.any():
            numeric[column] = is_number
        columns[column] = pd.Series([v.strip() if type(v) is str else _cell_text(v) for v in cells], dtype="str")
    frame = pd.DataFrame(columns, index=numbers.index)
    keep = (frame != "").any(axis=1) if len(frame.columns) else pd.Series(False, index=frame.index)
    frame, numbers = frame[keep].reset_index(drop=True), numbers[keep].reset_index(drop=True)
    numeric = {c: flags[keep].reset_index(drop=True) for c, flags in numeric.items()}
    return Extract(frame=frame, header_row=header_index + 1, row_numbers=numbers, numeric_cells=numeric)


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, float) and value != value) or str(value).strip() == ""


def _cell_text(value) -> str:
    if _is_blank(value):
        return ""
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() else repr(value)
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")
    return str(value).strip()


def _find_header(raw: list[list]) -> int:
    """The first row among the top rows in which at least two required columns are recognised."""
    for i in range(min(_HEADER_SEARCH_ROWS, len(raw))):
        names = [str(v) for v in raw[i] if not _is_blank(v)]
        if sum(1 for f in recognise(names).values() if f in REQUIRED) >= 2:
            return i
    return 0


def read_column_map(data: bytes) -> dict[str, str]:
    """A mapping file: CSV with columns ``source,target`` (extract column → Muskel field)."""
    text = _decode(data)
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows or not {"source", "target"} <= set(rows[0].keys()):
        raise InvalidInput("Berkas pemetaan kolom harus CSV dengan kolom 'source,target'.", code="column_map_invalid",
                           field="column_map")
    mapping = {}
    for number, row in enumerate(rows, start=2):
        target = (row["target"] or "").strip()
        if target not in FIELD_SYNONYMS:
            raise InvalidInput(f"Baris {number} berkas pemetaan: kolom Muskel {target!r} tidak dikenal. Pilihan: "
                               + ", ".join(FIELD_SYNONYMS), code="column_map_invalid", field="column_map")
        mapping[(row["source"] or "").strip()] = target
    return mapping


def apply_mapping(extract: Extract, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """The final mapping: recognised names, then the user's choices on top. Refuses when required fields lack."""
    mapping = recognise(list(extract.frame.columns))
    for source, target in (overrides or {}).items():
        if source not in extract.frame.columns:
            raise InvalidInput(f"Kolom {source!r} dari pemetaan tidak ada di berkas.", code="column_map_invalid",
                               field="column_map")
        mapping = {s: t for s, t in mapping.items() if t != target and s != source}
        if target:
            mapping[source] = target
    missing = [FIELD_LABELS[f] for f in REQUIRED if f not in mapping.values()]
    if missing:
        raise InvalidInput("Kolom wajib tidak ditemukan: " + ", ".join(missing) + ". Petakan kolom berkas ke kolom "
                           "Muskel (di layar, atau --column-map di baris perintah).", code="columns_missing",
                           field="column_map")
    return mapping
