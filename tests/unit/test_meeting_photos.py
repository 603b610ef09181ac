"""Documentation photos of a musyawarah: original kept unchanged, the shown copy without EXIF, junk refused."""

from __future__ import annotations

import hashlib
import io

import pytest
import sqlalchemy as sa
from PIL import Image

from core import db, filestore, meetings
from core.errors import InvalidInput
from tests.unit.photo_factory import exiftool_json, tagged_jpeg

KEL = "31.75.01.1003"


@pytest.fixture
def meeting(engine, make_account):
    operator = make_account(engine, "operator.foto", "operator", KEL)
    with db.session_scope(engine) as session:
        mid = meetings.create_meeting(KEL, "2026-11", actor=operator, session=session)["id"]
    return operator, mid


def test_meeting_photo_keeps_original_and_shows_a_copy_without_exif(engine, meeting):
    """Guards privacy of meeting photos: GPS in the phone photo stays only in the private original."""
    operator, mid = meeting
    data = tagged_jpeg(seed=9)
    assert "GPSLatitude" in exiftool_json(data)
    with db.session_scope(engine) as session:
        meetings.add_photo(mid, data, "rapat.jpg", "Suasana rapat", actor=operator, session=session)
    with db.session_scope(engine) as session:
        shown = meetings.photos(mid, actor=operator, session=session)
        originals = session.exec(sa.text("SELECT sha256 FROM storedfile WHERE purpose = 'meeting_photo'")).all()
    assert [o[0] for o in originals] == [hashlib.sha256(data).hexdigest()]
    copy = filestore.default_store().get(shown[0]["display_sha256"])
    assert Image.open(io.BytesIO(copy)).format == "JPEG"
    tags = exiftool_json(copy)
    assert not any(k.startswith("GPS") for k in tags) and "Make" not in tags and "DateTimeOriginal" not in tags


def test_meeting_photo_that_is_not_an_image_is_refused_and_nothing_stored(engine, meeting):
    """Guards content checking: a text file named .jpg is refused by name, no row and no file row is left."""
    operator, mid = meeting
    with pytest.raises(InvalidInput) as err:
        with db.session_scope(engine) as session:
            meetings.add_photo(mid, b"bukan foto", "rapat.jpg", "", actor=operator, session=session)
    assert "rapat.jpg" in err.value.message
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM meetingphoto")).scalar_one() == 0
        assert conn.execute(sa.text("SELECT COUNT(*) FROM storedfile")).scalar_one() == 0
