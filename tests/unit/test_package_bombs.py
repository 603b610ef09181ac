"""ZIP bombs as submission packages, through `muskel import-package` (peak memory measured) and the service.

A bomb whose sizes are honest but which inflates a thousandfold (under the 800 MB total limit), a package member
that is itself a ZIP (nested), and a member whose recorded size is a lie: each is refused early with a clear
message and a stable code, nothing is written (plain SQL counts, the file store listed), and the importing process
never holds the inflated content (its peak resident memory from the kernel, tests/unit/measured.py).
"""

from __future__ import annotations

import json
import os

import pytest
import sqlalchemy as sa

from core import db, packages
from core.access import Actor, Role
from core.errors import InvalidInput
from tests.unit import package_bombs
from tests.unit.measured import muskel, run_measured

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")
CAMAT = Actor(username="camat.x", nama="Camat", role=Role.CAMAT, wilayah_kode="31.75.01")
TABLES = ("batch", "musyawarah", "proposal", "document", "storedfile", "auditentry")
BOMBS = {"honest": ("package_bomb", "bom ZIP"), "nested": ("package_nested_archive", "arsip lain"),
         "lying": ("package_corrupt", "rusak")}


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def stored_files() -> list[str]:
    root = os.path.join(os.environ["MUSKEL_DATA_DIR"], "files")
    return sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs)


def test_the_bombs_are_what_they_claim():
    """Guards the fixtures themselves: small on disk, large (or lied about) inside, as zipfile reports."""
    declared, compressed = package_bombs.declared_and_actual(package_bombs.honest())
    assert declared > 600 * 2**20 and compressed < 4 * 2**20 and declared < packages.MAX_UNCOMPRESSED
    declared, compressed = package_bombs.declared_and_actual(package_bombs.lying())
    assert declared < 2000 and compressed > 1 * 2**20  # claims 1,000 bytes; inflates to 300 MB
    assert package_bombs.nested()[:4] == b"PK\x03\x04"


@pytest.mark.parametrize("kind", list(BOMBS))
def test_service_refuses_the_bomb_and_writes_nothing(engine, make_account, kind):
    """Guards the web path (the package uploaded on screen): refused with its code, no row, no file."""
    make_account(engine, "camat.x", "camat", "31.75.01")
    before, files = counts(engine), stored_files()
    code, words = BOMBS[kind]
    with pytest.raises(InvalidInput) as refused, db.session_scope(engine) as session:
        packages.import_package(getattr(package_bombs, kind)(), actor=CAMAT, session=session)
    assert refused.value.code == code and words in refused.value.message, refused.value.message
    assert counts(engine) == before and stored_files() == files


def test_unexpected_member_is_refused(engine, make_account):
    """Guards: a package carrying anything but manifest.json and files/<sha256> is refused by name, unread."""
    import io
    import zipfile

    make_account(engine, "camat.x", "camat", "31.75.01")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", "{}")
        archive.writestr("../../etc/cron.d/muskel", "* * * * * root true")
    with pytest.raises(InvalidInput) as refused, db.session_scope(engine) as session:
        packages.import_package(buffer.getvalue(), actor=CAMAT, session=session)
    assert refused.value.code == "package_unexpected_member"


def test_cli_refuses_each_bomb_early_with_bounded_memory(sqlite_only, make_account, tmp_path):
    """Guards: `muskel import-package` on each bomb ends with exit 1 and the code in --json, nothing written,
    and a peak memory close to that of refusing a non-ZIP — far below the 600 MB / 300 MB the bombs inflate to."""
    make_account(sqlite_only, "camat.x", "camat", "31.75.01")
    not_zip = tmp_path / "bukan.zip"
    not_zip.write_bytes(b"%PDF-1.4 bukan paket\n")
    done, baseline_mb = run_measured(muskel("import-package", str(not_zip), "--as", "camat.x", "--json"), input="")
    assert done.returncode == 1 and json.loads(done.stdout)["code"] == "package_not_zip", done.stdout
    before, files = counts(sqlite_only), stored_files()
    peaks = {}
    for kind, (code, words) in BOMBS.items():
        path = tmp_path / f"{kind}.zip"
        path.write_bytes(getattr(package_bombs, kind)())
        done, peaks[kind] = run_measured(muskel("import-package", str(path), "--as", "camat.x", "--json"), input="")
        assert done.returncode == 1, done.stderr
        answer = json.loads(done.stdout)
        assert answer["ok"] is False and answer["code"] == code and words in answer["message"], answer
        assert "Traceback" not in done.stderr
    print(f"\npeak memory: not a ZIP {baseline_mb:.0f} MB; " + ", ".join(f"{k} {v:.0f} MB" for k, v in peaks.items()))
    assert all(peak < baseline_mb + 60 for peak in peaks.values()), (baseline_mb, peaks)
    assert counts(sqlite_only) == before and stored_files() == files


def test_cli_refuses_a_package_larger_than_the_limit_before_reading_it(sqlite_only, make_account, tmp_path):
    """Guards: a file over 500 MB is refused from its size on disk (a sparse file: no bytes are written)."""
    make_account(sqlite_only, "camat.x", "camat", "31.75.01")
    big = tmp_path / "besar.zip"
    with big.open("wb") as out:
        out.truncate(packages.MAX_PACKAGE_BYTES + 1)
    done, peak_mb = run_measured(muskel("import-package", str(big), "--as", "camat.x", "--json"), input="")
    assert done.returncode == 1 and json.loads(done.stdout)["code"] == "package_too_large", done.stdout
    assert peak_mb < 300
