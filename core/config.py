"""Settings read from the environment, so one code base serves a laptop and a city deployment.

- ``MUSKEL_DATA_DIR``: runtime data (SQLite database, file store); default ``var/`` in the checkout (git-ignored).
- ``MUSKEL_DATABASE_URL``: SQLAlchemy URL; default a SQLite file in the data directory.
- ``MUSKEL_IDLE_TIMEOUT_MINUTES``: how long a web session may stay idle (default 30).
- ``MUSKEL_PHOTO_MAX_MB``: the largest photo accepted from field officers (default 20).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Reference data ships in the checkout's data/ folder; Muskel is installed editable (see README).
REFERENCE_DIR = PROJECT_ROOT / "data"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    idle_timeout_minutes: int
    photo_max_mb: int = 20
    # Where the public verification page is reached; printed in every final document's QR code.
    public_url: str = "http://localhost:8501"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings() -> Settings:
    """Read the settings afresh (tests change the environment between runs)."""
    data_dir = Path(os.environ.get("MUSKEL_DATA_DIR") or PROJECT_ROOT / "var").expanduser().resolve()
    url = os.environ.get("MUSKEL_DATABASE_URL") or f"sqlite:///{data_dir / 'muskel.db'}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        # psycopg 3 is the only PostgreSQL driver Muskel ships with.
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    try:
        idle = int(os.environ.get("MUSKEL_IDLE_TIMEOUT_MINUTES", "30"))
    except ValueError:
        idle = 30
    try:
        photo_max = int(os.environ.get("MUSKEL_PHOTO_MAX_MB", "20"))
    except ValueError:
        photo_max = 20
    return Settings(data_dir=data_dir, database_url=url, idle_timeout_minutes=max(1, idle),
                    photo_max_mb=min(200, max(1, photo_max)),
                    public_url=(os.environ.get("MUSKEL_PUBLIC_URL") or "http://localhost:8501").rstrip("/"))
