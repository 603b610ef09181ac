"""A process killed (SIGKILL, no clean-up code runs) in the middle of a user action, on SQLite and PostgreSQL.

For each kill point the test checks, independently of the code under test: every table's row count is what it was
before (plain SQL), the audit chain verifies (``muskel verify-audit``) and its outside checkpoint is not ahead of it,
the files the killed process had already written are not referenced and are exactly what the file store's clean-up
removes, and the same action tried again succeeds. The kill points are those of ``core.faultpoint``:
``photo.stored``, ``dtsen.rows_flushed``, ``workflow.before_commit`` and ``db.committed``.
"""

from __future__ import annotations

import hashlib
import json
from tests.fault.conftest import KEL, Installation, kill, run_to_fault, sweep_orphans
from tests.unit.photo_factory import house_scene, jpeg_bytes


def assert_audit_intact(inst: Installation) -> None:
    """The chain verifies and the checkpoint outside the database is not ahead of it (entries were not lost)."""
    inst.verify_audit()
    seq = inst.checkpoint_seq()
    assert seq is not None and seq <= inst.chain_length()


def run(inst: Installation, command: list[str]) -> str:
    """The same action again, as the user retries it; returns its standard output."""
    code, stdout = inst.run_here(command)
    assert code == 0, f"{command}:\n{stdout}"
    return stdout


def kill_at(inst: Installation, point: str, command: list[str], tmp_path) -> set[str]:
    """Run ``command`` to ``point``, SIGKILL it there; returns the files it had written to the store."""
    files_before = inst.files_on_disk()
    marker = tmp_path / f"{point}.marker"
    proc = run_to_fault(command, inst.env(point, marker), marker)
    written = inst.files_on_disk() - files_before
    kill(proc)
    return written


def test_photo_upload_killed_after_the_files_are_stored(installation, tmp_path):
    """Guards the upload of a field photo: killed after the original, display copy and thumbnail are in the store
    and the rows are flushed, nothing of it is in the database, the three files are orphans the clean-up removes,
    and the same upload then goes through and keeps those very files."""
    inst = installation
    photo = tmp_path / "depan.jpg"
    photo.write_bytes(jpeg_bytes(house_scene(21)))
    command = inst.action("photo", str(inst.visit_id), str(photo), "depan")
    before = inst.counts()

    written = kill_at(inst, "photo.stored", command, tmp_path)

    assert len(written) == 3 and hashlib.sha256(photo.read_bytes()).hexdigest() in written
    assert inst.counts() == before
    assert not written & inst.referenced_files()
    assert_audit_intact(inst)
    assert set(sweep_orphans(inst)) == written
    assert not written & inst.files_on_disk()

    run(inst, command)
    after = inst.counts()
    assert after["visitphoto"] == before["visitphoto"] + 1
    assert after["storedfile"] == before["storedfile"] + 3
    assert after["auditentry"] == before["auditentry"] + 1
    assert written <= inst.referenced_files() and written <= inst.files_on_disk()
    assert_audit_intact(inst)


def test_dtsen_import_killed_after_rows_are_flushed(installation, tmp_path):
    """Guards the all-or-nothing import (`muskel import-dtsen`): killed after the new families and members were
    written inside the transaction, no family, member, import record or audit entry remains, the kept copy of
    the extract is an orphan the clean-up removes, and the import then succeeds with the expected counts."""
    inst = installation
    command = inst.cli_command("import-dtsen", str(inst.extract), "--kelurahan", KEL, "--as", "operator.kayumanis",
                               "--json")
    before = inst.counts()

    written = kill_at(inst, "dtsen.rows_flushed", command, tmp_path)

    assert written == {hashlib.sha256(inst.extract.read_bytes()).hexdigest()}
    assert inst.counts() == before
    assert_audit_intact(inst)
    assert set(sweep_orphans(inst)) == written
    assert not written & inst.files_on_disk()

    result = json.loads(run(inst, command))
    assert result["imported"] is True and (result["new"], result["unchanged"]) == (30, 12)
    after = inst.counts()
    assert after["family"] == before["family"] + 30
    assert after["registerimport"] == before["registerimport"] + 1
    assert written <= inst.referenced_files()
    assert_audit_intact(inst)


def test_ratification_killed_before_commit(installation, tmp_path):
    """Guards the Walikota's ratification: killed after the batch, its items, the event and the audit entry were
    written but before the commit, the batch and every item are still 'diteruskan', the chain has no extra or
    broken entry, and the ratification then goes through."""
    inst = installation

    def states() -> tuple[str, list[str]]:
        ids = ",".join(str(i) for i in inst.items)
        with inst.engine.connect() as conn:
            batch = conn.exec_driver_sql(f"SELECT state FROM batch WHERE id = {int(inst.batch_id)}").scalar_one()
            items = list(conn.exec_driver_sql(f"SELECT status FROM proposal WHERE id IN ({ids})").scalars())
        return batch, sorted(items)

    command = inst.action("sahkan", str(inst.batch_id))
    assert states() == ("diteruskan", ["diteruskan"] * len(inst.items))
    before = inst.counts()

    written = kill_at(inst, "workflow.before_commit", command, tmp_path)

    assert written == set()
    assert inst.counts() == before
    assert states() == ("diteruskan", ["diteruskan"] * len(inst.items))
    assert_audit_intact(inst)

    run(inst, command)
    assert states() == ("disahkan", ["disahkan"] * len(inst.items))
    after = inst.counts()
    assert (after["batchevent"], after["auditentry"]) == (before["batchevent"] + 1, before["auditentry"] + 1)
    assert_audit_intact(inst)


def test_killed_after_commit_before_the_checkpoint(installation, tmp_path):
    """Guards the moment between the commit and the checkpoint file: the photo is saved whole, the checkpoint only
    lags behind the chain (which verifies), no file is an orphan, and the next audited action moves it up."""
    inst = installation
    photo = tmp_path / "dalam.jpg"
    photo.write_bytes(jpeg_bytes(house_scene(22)))
    command = inst.action("photo", str(inst.visit_id), str(photo), "dalam")
    before = inst.counts()

    kill_at(inst, "db.committed", command, tmp_path)

    after = inst.counts()
    assert after["visitphoto"] == before["visitphoto"] + 1 and after["storedfile"] == before["storedfile"] + 3
    assert inst.checkpoint_seq() < inst.chain_length()
    assert_audit_intact(inst)
    assert sweep_orphans(inst) == []

    second = tmp_path / "lain.jpg"
    second.write_bytes(jpeg_bytes(house_scene(23)))
    run(inst, inst.action("photo", str(inst.visit_id), str(second), "lainnya"))
    assert inst.checkpoint_seq() == inst.chain_length()
    assert_audit_intact(inst)
