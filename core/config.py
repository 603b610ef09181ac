"""Settings read from the environment, so one code base serves a laptop and a city deployment.

- ``MUSKEL_DATA_DIR``: runtime data (SQLite database, file store); default ``var/`` in the checkout (git-ignored).
- ``MUSKEL_DATABASE_URL``: SQLAlchemy URL; default a SQLite file in the data directory.
- ``MUSKEL_IDLE_TIMEOUT_MINUTES``: how long a web session may stay idle (default 30).
- ``MUSKEL_PHOTO_MAX_MB``: the largest photo accepted from field officers (default 20; at most 50, the web
  server's upload limit in .streamlit/config.toml).
- ``MUSKEL_IMPORT_MAX_MB`` / ``MUSKEL_IMPORT_MAX_ROWS``: the largest DTSEN extract (default 50 MB, the web upload
  limit, and 500,000 rows — a kelurahan has at most ~100,000 persons); larger files are refused before parsing.
- ``MUSKEL_LOGIN_MAX_PER_USER`` / ``MUSKEL_LOGIN_MAX_PER_CLIENT``: login attempts per minute per username
  (default 10) and per client address (default 30) before the login page asks to wait (``core.login_throttle``).
- ``MUSKEL_RETENTION_YEARS``: whole years originals of photos and scans are kept after ratification (default 5).
- ``MUSKEL_FILE_STORE``: empty for files under the data directory, or ``s3://bucket/prefix`` for an object store
  (endpoint in ``MUSKEL_S3_ENDPOINT_URL``), for replicas that share no filesystem.
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
    import_max_mb: int = 50
    import_max_rows: int = 500_000
    login_max_per_user: int = 10
    login_max_per_client: int = 30
    # UU PDP: originals of photos and signed scans are purged this many whole years after ratification.
    retention_years: int = 5
    # Empty: files under data_dir/files. "s3://bucket/prefix": an S3-compatible object store.
    file_store_url: str = ""
    s3_endpoint_url: str = ""

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
    try:
        retention = int(os.environ.get("MUSKEL_RETENTION_YEARS", "5"))
    except ValueError:
        retention = 5
    return Settings(data_dir=data_dir, database_url=url, idle_timeout_minutes=max(1, idle),
                    photo_max_mb=min(50, max(1, photo_max)), retention_years=min(100, max(1, retention)),
                    public_url=(os.environ.get("MUSKEL_PUBLIC_URL") or "http://localhost:8501").rstrip("/"),
                    file_store_url=(os.environ.get("MUSKEL_FILE_STORE") or "").strip(),
                    s3_endpoint_url=(os.environ.get("MUSKEL_S3_ENDPOINT_URL") or "").strip(),
                    import_max_mb=max(1, _int("MUSKEL_IMPORT_MAX_MB", 50)),
                    import_max_rows=max(1, _int("MUSKEL_IMPORT_MAX_ROWS", 500_000)),
                    login_max_per_user=max(1, _int("MUSKEL_LOGIN_MAX_PER_USER", 10)),
                    login_max_per_client=max(1, _int("MUSKEL_LOGIN_MAX_PER_CLIENT", 30)))


def _int(name: str, default: int) -> int:
    """An integer setting; an unreadable value falls back to the default."""
    try:
        return int(os.environ.get(name, str(default)))
    except ValueError:
        return default
