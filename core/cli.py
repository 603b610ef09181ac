"""The `muskel` command line: administration and scripted work, with a contract operators' scripts rely on.

- commands that act on families, proposals, documents or batches take ``--as USERNAME`` and act with that
  account's role and wilayah (audited with channel ``cli``);
- ``--json`` prints machine output on stdout (a JSON list when reporting on several items); logs go to stderr;
- exit codes: 0 ok, 1 a check failed or the input is invalid, 2 wrong usage, 3 access denied, 4 environment;
- codes in output are stable English snake_case; messages for people are Indonesian.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Callable

import sqlalchemy as sa

from core import accounts, audit, db, demo, doctor, setup
from core.access import Actor, Role
from core.config import load_settings
from core.errors import AccessDenied, EnvironmentProblem, InvalidInput, MuskelError, NotFound

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DENIED, EXIT_ENVIRONMENT = 0, 1, 2, 3, 4


class Output:
    def __init__(self, as_json: bool):
        self.as_json = as_json

    def result(self, data, human: str | Callable[[], str]) -> None:
        if self.as_json:
            print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        else:
            print(human() if callable(human) else human)

    @staticmethod
    def log(message: str) -> None:
        print(message, file=sys.stderr)


def _cli_admin() -> Actor:
    """The operator at the server's shell, for administration commands that run without --as."""
    try:
        who = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        who = "unknown"
    return Actor(username=f"cli:{who}", nama=f"Operator server ({who})", role=Role.ADMIN, wilayah_kode="31",
                 channel="cli")


def _ready_engine() -> sa.Engine:
    settings = load_settings()
    engine = db.get_engine(settings.database_url)
    db.check_connection(engine)
    if not db.is_at_head(engine):
        raise EnvironmentProblem("Basis data belum diinisialisasi atau belum mutakhir: jalankan `muskel init`.")
    return engine


def resolve_actor(username: str, session) -> Actor:
    """The account named by --as; unknown or disabled accounts are refused (exit 3)."""
    try:
        user = accounts.get_user(session, username.strip().lower())
    except NotFound:
        raise AccessDenied(f"Akun --as {username!r} tidak dikenal.", code="unknown_account") from None
    if not user.is_active:
        raise AccessDenied(f"Akun --as {username!r} dinonaktifkan.", code="account_disabled")
    return accounts.actor_for(user, channel="cli")


# --- commands ---------------------------------------------------------------------------------------------


def cmd_init(args, out: Output) -> int:
    out.log("Menyiapkan basis data…")
    result = setup.initialise()
    loaded = result["wilayah"]
    out.result(result, lambda: (
        f"Basis data siap (revisi {result['revision']}). Wilayah: {loaded['inserted']} ditambahkan, "
        f"{loaded['updated']} diperbarui."))
    return EXIT_OK


def cmd_doctor(args, out: Output) -> int:
    report, healthy = doctor.diagnose()

    def human() -> str:
        lines = [f"Basis data : {report['database']}", f"Migrasi    : {report['migrations']}",
                 f"Direktori  : {report['data_dir']}",
                 "Wilayah    : " + ", ".join(f"{k} {v}" for k, v in report.get("wilayah", {}).items()),
                 "Akun       : " + (", ".join(f"{k} {v}" for k, v in report.get("accounts", {}).items()) or "–")]
        lines += [f"MASALAH: {v}" for k, v in report.items() if k.endswith("_error")]
        return "\n".join(lines)

    out.result(report, human)
    return EXIT_OK if healthy else EXIT_ENVIRONMENT


def cmd_seed_demo(args, out: Output) -> int:
    engine = _ready_engine()
    with db.session_scope(engine) as session:
        result = demo.seed(actor=_cli_admin(), session=session)
    out.result(result, lambda: (
        f"Akun demo dibuat: {', '.join(result['accounts_created']) or 'tidak ada (sudah ada semua)'}. "
        f"Kata sandi semua akun demo: {demo.DEMO_PASSWORD}"))
    return EXIT_OK


def cmd_user_add(args, out: Output) -> int:
    engine = _ready_engine()
    password = sys.stdin.readline().rstrip("\r\n")
    data = accounts.NewAccount(username=args.username, nama=args.name, role=args.role, wilayah_kode=args.wilayah,
                               nip=args.nip or "", jabatan=args.jabatan or "")
    with db.session_scope(engine) as session:
        created, _ = accounts.create_account(data, actor=_cli_admin(), session=session, password=password,
                                             must_change=args.temporary)
    out.result(created, f"Akun {created['username']} ({created['role']}, {created['wilayah']}) dibuat.")
    return EXIT_OK


def cmd_user_list(args, out: Output) -> int:
    engine = _ready_engine()
    with db.session_scope(engine) as session:
        users = accounts.list_accounts(actor=_cli_admin(), session=session)

    def human() -> str:
        rows = [f"{u['username']:<24} {u['role']:<9} {u['wilayah']:<14} {'aktif' if u['aktif'] else 'nonaktif':<9} "
                f"{u['nama']}" for u in users]
        return "\n".join(rows) or "Belum ada akun."

    out.result(users, human)
    return EXIT_OK


def _user_change(fn, message: str):
    def run(args, out: Output) -> int:
        engine = _ready_engine()
        with db.session_scope(engine) as session:
            result = fn(args.username.strip().lower(), actor=_cli_admin(), session=session)
        out.result(result, message.format(username=args.username))
        return EXIT_OK
    return run


def _set_active(active: bool):
    return lambda username, *, actor, session: accounts.set_active(username, active, actor=actor, session=session)


def cmd_user_reset_password(args, out: Output) -> int:
    engine = _ready_engine()
    with db.session_scope(engine) as session:
        temporary = accounts.reset_password(args.username.strip().lower(), actor=_cli_admin(), session=session)
    out.result({"username": args.username, "temporary_password": temporary},
               f"Kata sandi sementara untuk {args.username}: {temporary} (wajib diganti saat masuk).")
    return EXIT_OK


def cmd_verify_audit(args, out: Output) -> int:
    engine = _ready_engine()
    with db.session_scope(engine) as session:
        report = audit.verify_chain(session)
    out.result(report.__dict__, report.message)
    return EXIT_OK if report.ok else EXIT_FAILED


def cmd_audit_log(args, out: Output) -> int:
    engine = _ready_engine()
    with db.session_scope(engine) as session:
        actor = resolve_actor(args.as_user, session)
        entries = audit.list_entries(audit.AuditQuery(action=args.action, username=args.user, limit=args.limit),
                                     actor=actor, session=session)
        # Reading the log is itself on the record.
        audit.record(session, actor, "audit.read", object_type="audit_log", object_id="cli",
                     wilayah_kode=actor.wilayah_kode, after={"entri": len(entries)})

    def human() -> str:
        return "\n".join(f"#{e['seq']:<6} {e['created_at']}  {e['actor']:<22} {e['channel']:<4} {e['action']:<24} "
                         f"{e['object_type']}:{e['object_id']}" for e in entries) or "Tidak ada entri."

    out.result(entries, human)
    return EXIT_OK


def cmd_import_dtsen(args, out: Output) -> int:
    from pathlib import Path

    from core import dtsen_file, register

    engine = _ready_engine()
    path = Path(args.file)
    if not path.is_file():
        raise InvalidInput(f"Berkas {path} tidak ditemukan.", code="file_missing", field="FILE")
    with path.open("rb") as stream:  # size and row limits before the file is read into memory
        dtsen_file.check_limits(stream, path.stat().st_size)
    column_map = dtsen_file.read_column_map(Path(args.column_map).read_bytes()) if args.column_map else None
    waive = {code: args.reason or "" for code in args.waive or []}
    with db.session_scope(engine) as session:
        actor = resolve_actor(args.as_user, session)
        result = register.import_extract(
            path.read_bytes(), path.name, args.kelurahan, actor=actor, session=session, column_map=column_map,
            dry_run=args.dry_run, skip_invalid=args.skip_invalid, waive=waive,
            progress=lambda fraction, text: out.log(f"[{fraction:4.0%}] {text}"))
    if args.report:
        result.problems[["row", "column", "code", "message"]].to_csv(args.report, index=False)
        out.log(f"Laporan masalah ditulis ke {args.report} ({len(result.problems)} baris).")
    counts = {k: result.counts[k] for k in ("persons", "new", "changed", "unchanged", "absent", "problems",
                                            "blocking", "warnings", "skipped_rows")}
    summary = {"imported": result.imported, "dry_run": args.dry_run, **counts}
    if not result.imported and not args.dry_run:
        for p in result.blocking.head(20).itertuples(index=False):
            out.log(f"baris {p.row}, kolom {p.column}: [{p.code}] {p.message}")
        if len(result.blocking) > 20:
            out.log(f"… dan {len(result.blocking) - 20} masalah lain (lihat --report).")
    out.result(summary, lambda: (
        ("Diimpor" if result.imported else ("Pemeriksaan saja (--dry-run)" if args.dry_run else "TIDAK diimpor"))
        + f": {counts['persons']} orang; baru {counts['new']}, berubah {counts['changed']}, tetap "
        f"{counts['unchanged']}, absen {counts['absent']} keluarga; {counts['blocking']} masalah penghalang, "
        f"{counts['warnings']} peringatan" + (f", {counts['skipped_rows']} baris dilewati" if counts["skipped_rows"]
                                              else "") + "."))
    if result.imported or (args.dry_run and not len(result.blocking)):
        return EXIT_OK
    return EXIT_FAILED


def cmd_photo_info(args, out: Output) -> int:
    """What Muskel reads from photos and concludes; an unreadable file is reported, never a crash."""
    from pathlib import Path

    from core import evidence, photos

    results = []
    actor, session_cm = None, None
    if args.as_user:
        session_cm = db.session_scope(_ready_engine())
        session = session_cm.__enter__()
        actor = resolve_actor(args.as_user, session)
    try:
        for name in args.files:
            path = Path(name)
            try:
                data = path.read_bytes()
            except OSError as exc:
                results.append({"file": name, "flags": ["unreadable"], "error": exc.strerror})
                continue
            analysis = photos.analyse(data)
            item = {"file": name, **analysis.as_dict()}
            if actor is not None and analysis.readable:
                item["duplicates"] = [
                    {k: d[k] for k in ("kelurahan", "family_id", "exact", "distance")}
                    for d in evidence.find_duplicates(analysis.sha256, analysis.phash, actor=actor, session=session)]
            results.append(item)
    finally:
        if session_cm is not None:
            session_cm.__exit__(None, None, None)

    def human() -> str:
        lines = []
        for r in results:
            where = f"{r['latitude']:.6f}, {r['longitude']:.6f}" if r.get("latitude") is not None else "tanpa GPS"
            lines.append(f"{r['file']}: {r.get('format') or '?'} {r.get('width', 0)}×{r.get('height', 0)}, {where}, "
                         f"diambil {r.get('taken_at') or '–'}; temuan: {', '.join(r['flags']) or 'tidak ada'}")
        return "\n".join(lines)

    out.result(results, human)
    return EXIT_OK


def cmd_verify_document(args, out: Output) -> int:
    """Is this PDF a genuine, current Muskel document? Exit 0 only for ``valid``; nothing personal is printed."""
    from pathlib import Path

    from core import doc_verify

    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"Berkas {args.file} tidak dapat dibaca: {exc.strerror}.", code="file_unreadable",
                           field="file") from None
    if data[:5] != b"%PDF-":
        doc_verify.by_pdf(data, session=None)  # refuses a non-PDF before the database is asked anything
    with db.session_scope(_ready_engine()) as session:
        result = doc_verify.by_pdf(data, session=session)

    def human() -> str:
        lines = [f"Status: {result['status']} — {result['pesan']}"]
        if "nomor" in result:
            lines.append(f"{result['jenis_label']} Nomor {result['nomor']}, {result['tanggal']}; "
                         f"{result['kelurahan'] or result['kecamatan'] or result['kota']}, periode {result['periode']}; "
                         f"{result['kk']} KK / {result['jiwa']} jiwa")
        if result.get("digantikan_oleh"):
            lines.append(f"Digantikan oleh Nomor {result['digantikan_oleh']}")
        return "\n".join(lines)

    out.result(result, human)
    return EXIT_OK if result["status"] == "valid" else EXIT_FAILED


def _acting(args, session) -> Actor:
    return resolve_actor(args.as_user, session)


def cmd_batch_list(args, out: Output) -> int:
    """Batches in the account's wilayah (or a narrower --wilayah), with state, revision, lateness and counts."""
    from core import batch_views

    with db.session_scope(_ready_engine()) as session:
        actor = _acting(args, session)
        rows = batch_views.queue(args.wilayah or actor.wilayah_kode, actor=actor, session=session,
                                 periode=args.periode)
    data = [{"id": r["id"], "uuid": r["uuid"], "kelurahan_kode": r["kelurahan_kode"], "kelurahan": r["kelurahan"],
             "period": r["periode"], "state": r["state"], "revision": r["revision"], "late": r["late"],
             "counts": {"kk": r["kk"], "jiwa": r["jiwa"],
                        **{k: v["kk"] for k, v in sorted(r["per_jenis"].items())}}} for r in rows]
    out.result(data, lambda: "\n".join(
        f"#{d['id']} {d['kelurahan_kode']} {d['kelurahan']} {d['period']} {d['state']} rev {d['revision']}"
        f"{' TERLAMBAT' if d['late'] else ''}: {d['counts']['kk']} KK / {d['counts']['jiwa']} jiwa"
        for d in data) or "Tidak ada pengajuan.")
    return EXIT_OK


def cmd_report_duplicates(args, out: Output) -> int:
    """NIKs proposed more than once under a wilayah, one CSV row per occurrence (codes, not labels)."""
    from pathlib import Path

    from core import reports

    with db.session_scope(_ready_engine()) as session:
        actor = _acting(args, session)
        rows = reports.duplicates(args.wilayah, actor=actor, session=session, periode=args.periode)
    Path(args.out).write_bytes(reports.duplicates_csv(rows))
    out.result({"rows": len(rows), "out": args.out}, f"{len(rows)} baris NIK ganda ditulis ke {args.out}.")
    return EXIT_OK


def cmd_report_triwulan(args, out: Output) -> int:
    """The quarterly report: a PDF (finalised and registered — the issuing Camat or Walikota/Bupati) or an XLSX."""
    from pathlib import Path

    from core import documents, quarterly

    target = Path(args.out)
    if target.suffix.lower() not in (".pdf", ".xlsx"):
        raise InvalidInput("--out harus berakhiran .pdf atau .xlsx.", code="out_suffix", field="out")
    key = {"kode": args.wilayah, "tahun": args.tahun, "triwulan": args.triwulan}
    with db.session_scope(_ready_engine()) as session:
        actor = _acting(args, session)
        if target.suffix.lower() == ".xlsx":
            data = quarterly.xlsx(args.wilayah, args.tahun, args.triwulan, actor=actor, session=session)
            result = {"out": args.out, "format": "xlsx"}
        else:
            subject = documents.subject_of("laporan_triwulan", key)
            existing = documents.current("laporan_triwulan", subject, session)
            doc = documents.document_dict(existing) if existing else documents.finalise(
                "laporan_triwulan", key, actor=actor, session=session)
            data, _, _ = documents.download(doc["id"], actor=actor, session=session)
            result = {"out": args.out, "format": "pdf", "nomor": doc["nomor"], "kode": doc["kode"],
                      "sha256": doc["sha256"], "sudah_ada": existing is not None}
    target.write_bytes(data)
    out.result(result, f"Laporan triwulan ditulis ke {args.out}" + (
        f" (Nomor {result['nomor']}, kode verifikasi {result['kode']})" if result["format"] == "pdf" else "") + ".")
    return EXIT_OK


def cmd_backup(args, out: Output) -> int:
    """A consistent snapshot of the database and the file store, taken while the app runs."""
    from pathlib import Path

    from core import backup

    _ready_engine()
    manifest = backup.backup(Path(args.out))
    with db.session_scope() as session:
        audit.record(session, _cli_admin(), "system.backup", object_type="installation", object_id=args.out,
                     after={"berkas": len(manifest["files"]), "entri_audit": (manifest["audit_head"] or {}).get("seq")})
    out.result({"out": args.out, "database": manifest["database"], "files": len(manifest["files"]),
                "counts": manifest["counts"], "audit_head": manifest["audit_head"]},
               f"Cadangan ditulis ke {args.out}: {len(manifest['files'])} berkas, "
               f"{manifest['counts']['auditentry']} entri log audit.")
    return EXIT_OK


def cmd_restore(args, out: Output) -> int:
    """Restore a backup into an empty installation (init first for PostgreSQL; SQLite needs only the data dir)."""
    from pathlib import Path

    from core import backup

    result = backup.restore(Path(args.file))
    with db.session_scope() as session:
        audit.record(session, _cli_admin(), "system.restored", object_type="installation", object_id=args.file,
                     after={"berkas": result["files"], "rantai_utuh": result["audit_ok"]})
    out.result(result, f"Cadangan dipulihkan: {result['files']} berkas; rantai log audit "
                       f"{'utuh' if result['audit_ok'] else 'RUSAK'} ({result['audit_entries']} entri).")
    return EXIT_OK if result["audit_ok"] else EXIT_FAILED


def cmd_retention(args, out: Output) -> int:
    """Purge originals of photos and signed scans whose retention period after ratification has ended."""
    from core import retention

    with db.session_scope(_ready_engine()) as session:
        result = retention.purge(actor=_cli_admin(), session=session, dry_run=args.dry_run)
    data = {"due": result["due"], "purged": result["purged"], "files": result["files"], "bytes": result["bytes"],
            "kept_shared": result["kept_shared"], "dry_run": result["dry_run"], "years": result["years"]}
    out.result(data, (f"{'Pemeriksaan saja (--dry-run)' if args.dry_run else 'Retensi dijalankan'}: masa retensi "
                      f"{result['years']} tahun; {result['due']} berkas asli jatuh tempo, {result['purged']} "
                      f"ditandai dihapus; {len(result['files'])} berkas ({result['bytes']} byte) "
                      f"{'akan dihapus' if args.dry_run else 'dihapus'} dari penyimpanan; "
                      f"{len(result['kept_shared'])} tetap disimpan karena masih dipakai data lain."))
    return EXIT_OK


def _passphrase() -> str:
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise InvalidInput("Frasa sandi dibaca satu baris dari standard input; tidak ada yang diterima.",
                           code="passphrase_missing", field="passphrase")
    return line


def cmd_export_package(args, out: Output) -> int:
    from pathlib import Path

    from core import packages

    passphrase = _passphrase() if args.encrypt else None
    with db.session_scope(_ready_engine()) as session:
        actor = _acting(args, session)
        data, digest = packages.export_package(args.batch_id, actor=actor, session=session, passphrase=passphrase)
    Path(args.out).write_bytes(data)
    out.result({"out": args.out, "manifest_sha256": digest, "encrypted": bool(args.encrypt), "bytes": len(data)},
               f"Paket ditulis ke {args.out}. SHA-256 manifest: {digest}")
    return EXIT_OK


def cmd_import_package(args, out: Output) -> int:
    from pathlib import Path

    from core import packages

    try:
        if Path(args.file).stat().st_size > packages.MAX_PACKAGE_BYTES:  # refused before it is read into memory
            raise InvalidInput("Paket terlalu besar (paling besar 500 MB).", code="package_too_large", field="paket")
        data = Path(args.file).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"Berkas {args.file} tidak dapat dibaca: {exc.strerror}.", code="file_unreadable",
                           field="file") from None
    passphrase = None
    if not sys.stdin.isatty():
        passphrase = sys.stdin.readline().rstrip("\r\n") or None
    with db.session_scope(_ready_engine()) as session:
        actor = _acting(args, session)
        result = packages.import_package(data, actor=actor, session=session, passphrase=passphrase,
                                         expect_hash=args.expect_hash)
    out.result(result, f"{result['pesan']} Pengajuan #{result['batch_id']}; SHA-256 manifest "
                       f"{result['manifest_sha256']}")
    return EXIT_OK


# --- parser -----------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="muskel", description="Muskel: administrasi dan pekerjaan terjadwal.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="PERINTAH")

    def command(name: str, handler, help_text: str, parent=sub):
        p = parent.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--json", action="store_true", help="keluaran JSON di stdout")
        p.set_defaults(handler=handler)
        return p

    command("init", cmd_init, "buat atau migrasikan basis data dan muat data wilayah (aman diulang)")
    command("doctor", cmd_doctor, "periksa basis data, migrasi, direktori data, wilayah dan akun")
    command("seed-demo", cmd_seed_demo, "buat akun demo di Kecamatan Matraman (aman diulang)")
    command("verify-audit", cmd_verify_audit, "periksa keutuhan rantai log audit")
    log = command("audit-log", cmd_audit_log, "tampilkan log audit dalam wilayah akun --as")
    log.add_argument("--as", dest="as_user", required=True, metavar="USERNAME")
    log.add_argument("--action", help="hanya aksi ini, misalnya auth.login")
    log.add_argument("--user", help="hanya entri oleh nama pengguna ini")
    log.add_argument("--limit", type=int, default=100)

    imp = command("import-dtsen", cmd_import_dtsen, "impor ekstrak DTSEN (CSV/XLSX) untuk satu kelurahan")
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--kelurahan", required=True, metavar="CODE", help="kode Kemendagri kelurahan, mis. 31.75.01.1003")
    imp.add_argument("--as", dest="as_user", required=True, metavar="USERNAME")
    imp.add_argument("--dry-run", action="store_true", help="periksa saja, jangan simpan apa pun")
    imp.add_argument("--skip-invalid", action="store_true", help="impor hanya keluarga tanpa masalah penghalang")
    imp.add_argument("--column-map", metavar="MAP.csv", help="pemetaan kolom: CSV dengan kolom source,target")
    imp.add_argument("--report", metavar="OUT.csv", help="tulis semua masalah ke CSV (row,column,code,message)")
    imp.add_argument("--waive", action="append", metavar="CODE", help="kesampingkan temuan ini (hanya Lurah)")
    imp.add_argument("--reason", help="alasan untuk --waive")

    info = command("photo-info", cmd_photo_info, "apa yang dibaca Muskel dari foto (EXIF, GPS, waktu, temuan)")
    info.add_argument("files", nargs="+", metavar="FILE")
    info.add_argument("--as", dest="as_user", metavar="USERNAME", help="tambahkan foto ganda dalam wilayah akun ini")

    batch = sub.add_parser("batch", help="pengajuan kelurahan").add_subparsers(dest="batch_command", required=True,
                                                                               metavar="AKSI")
    blist = command("list", cmd_batch_list, "daftar pengajuan dalam wilayah akun --as", batch)
    blist.add_argument("--as", dest="as_user", required=True, metavar="USERNAME")
    blist.add_argument("--wilayah", metavar="CODE", help="hanya di bawah wilayah ini")
    blist.add_argument("--periode", metavar="YYYY-MM")

    report = sub.add_parser("report", help="laporan").add_subparsers(dest="report_command", required=True,
                                                                    metavar="LAPORAN")
    dup = command("duplicates", cmd_report_duplicates, "NIK yang diusulkan lebih dari sekali (CSV)", report)
    dup.add_argument("--wilayah", required=True, metavar="CODE")
    dup.add_argument("--as", dest="as_user", required=True, metavar="USERNAME")
    dup.add_argument("--out", required=True, metavar="FILE.csv")
    dup.add_argument("--periode", metavar="YYYY-MM")

    tw = command("triwulan", cmd_report_triwulan, "laporan triwulan kecamatan/kota (PDF final terdaftar, atau XLSX)",
                 report)
    tw.add_argument("--wilayah", required=True, metavar="CODE")
    tw.add_argument("--tahun", required=True, type=int, metavar="YYYY")
    tw.add_argument("--triwulan", required=True, type=int, choices=[1, 2, 3, 4], metavar="N")
    tw.add_argument("--as", dest="as_user", required=True, metavar="USERNAME")
    tw.add_argument("--out", required=True, metavar="FILE.pdf|FILE.xlsx")

    exp = command("export-package", cmd_export_package, "tulis paket pengajuan (ZIP) untuk jalur luring/arsip")
    exp.add_argument("batch_id", type=int, metavar="BATCH_ID")
    exp.add_argument("--as", dest="as_user", required=True, metavar="USERNAME")
    exp.add_argument("--out", required=True, metavar="OUT.zip")
    exp.add_argument("--encrypt", action="store_true", help="enkripsi AES; frasa sandi dibaca dari stdin")
    imp2 = command("import-package", cmd_import_package,
                   "muat paket pengajuan; frasa sandi (bila terenkripsi) dibaca dari stdin")
    imp2.add_argument("file", metavar="FILE.zip")
    imp2.add_argument("--as", dest="as_user", required=True, metavar="USERNAME")
    imp2.add_argument("--expect-hash", metavar="SHA256", help="SHA-256 manifest yang tercetak pada BAST")

    bk = command("backup", cmd_backup, "cadangkan basis data dan berkas (konsisten, boleh saat aplikasi berjalan)")
    bk.add_argument("--out", required=True, metavar="FILE")
    rs = command("restore", cmd_restore, "pulihkan cadangan ke instalasi yang masih kosong")
    rs.add_argument("file", metavar="FILE")
    ret = command("retention", cmd_retention, "hapus berkas asli foto dan pindaian yang masa retensinya habis "
                  "(MUSKEL_RETENTION_YEARS tahun setelah pengesahan)")
    ret.add_argument("--dry-run", action="store_true", help="tampilkan saja apa yang jatuh tempo, jangan hapus")

    check = command("verify-document", cmd_verify_document,
                    "periksa keaslian PDF dokumen Muskel (valid/superseded/altered/draft/unknown); exit 0 hanya "
                    "untuk valid")
    check.add_argument("file", metavar="FILE.pdf")

    user = sub.add_parser("user", help="kelola akun").add_subparsers(dest="user_command", required=True,
                                                                      metavar="AKSI")
    add = command("add", cmd_user_add, "tambah akun; kata sandi dibaca satu baris dari stdin", user)
    add.add_argument("--username", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--wilayah", required=True, help="kode Kemendagri bertitik; 31 untuk provinsi")
    add.add_argument("--nip")
    add.add_argument("--jabatan")
    add.add_argument("--temporary", action="store_true", help="wajib ganti kata sandi saat pertama masuk")
    command("list", cmd_user_list, "daftar akun", user)
    for name, fn, message, help_text in [
        ("disable", _set_active(False), "Akun {username} dinonaktifkan.", "nonaktifkan akun"),
        ("enable", _set_active(True), "Akun {username} diaktifkan kembali.", "aktifkan kembali akun"),
        ("unlock", accounts.unlock, "Kunci akun {username} dibuka.", "buka kunci akun"),
    ]:
        command(name, _user_change(fn, message), help_text, user).add_argument("username")
    command("reset-password", cmd_user_reset_password, "beri kata sandi sementara baru", user).add_argument("username")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 on wrong usage
    out = Output(getattr(args, "json", False))
    try:
        return args.handler(args, out)
    except MuskelError as exc:
        return _fail(out, exc.code, exc.message, exc.exit_code, getattr(exc, "field", None))
    except sa.exc.DBAPIError as exc:
        if db.connection_lost(exc):
            return _fail(out, "database_connection_lost", db.CONNECTION_LOST_MESSAGE, EXIT_ENVIRONMENT)
        if not isinstance(exc, sa.exc.OperationalError):
            raise
        return _fail(out, "database_unavailable", f"Basis data tidak dapat dipakai: {exc.orig}", EXIT_ENVIRONMENT)
    except PermissionError as exc:
        return _fail(out, "data_dir_not_writable", f"Tidak dapat menulis: {exc}", EXIT_ENVIRONMENT)


def _fail(out: Output, code: str, message: str, exit_code: int, field: str | None = None) -> int:
    print(f"GAGAL ({code}): {message}", file=sys.stderr)
    if out.as_json:
        print(json.dumps({"ok": False, "code": code, "field": field, "message": message}, ensure_ascii=False))
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
