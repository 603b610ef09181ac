"""One user action in a process of its own, run the way the app's page runs it (one ``session_scope``), so a
fault test can kill it at a fault point. Used by tests/fault only:

    python -m tests.fault.act photo VISIT_ID FILE KIND     the field officer uploads a photo (Kunjungan lapangan)
    python -m tests.fault.act sahkan BATCH_ID              the Walikota ratifies a forwarded batch (Pengesahan)

Exit status and errors follow the CLI: a Muskel error or a lost database prints its message and exits 1 or 4.
"""

from __future__ import annotations

import sys
from pathlib import Path

import sqlalchemy as sa

from core import accounts, db, evidence, workflow
from core.errors import MuskelError


def _actor(session, username: str):
    return accounts.actor_for(accounts.get_user(session, username), channel="web")


def main(argv: list[str]) -> int:
    what, *args = argv
    try:
        with db.session_scope() as session:
            if what == "photo":
                visit_id, path, kind = int(args[0]), Path(args[1]), args[2]
                evidence.add_photo(visit_id, path.read_bytes(), path.name, kind,
                                   actor=_actor(session, "petugas.kayumanis"), session=session)
            elif what == "sahkan":
                workflow.act(int(args[0]), "sahkan", actor=_actor(session, "walikota.jaktim"), session=session,
                             expected_state="diteruskan")
            else:
                print(f"unknown action {what}", file=sys.stderr)
                return 2
    except MuskelError as exc:
        print(f"GAGAL ({exc.code}): {exc.message}", file=sys.stderr)
        return exc.exit_code
    except sa.exc.DBAPIError as exc:
        if not db.connection_lost(exc):
            raise
        print(f"GAGAL (database_connection_lost): {db.CONNECTION_LOST_MESSAGE}", file=sys.stderr)
        return 4
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
