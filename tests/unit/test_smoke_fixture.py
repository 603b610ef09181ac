"""The database fixture itself: both backends come migrated, with the 267 kelurahan loaded."""

from sqlmodel import select

from core import wilayah
from core.models import Wilayah


def test_reference_data_loaded(scope):
    with scope() as session:
        counts = wilayah.counts_by_level(session)
        assert counts == {"provinsi": 1, "kota": 5, "kabupaten": 1, "kecamatan": 44, "kelurahan": 267}
        assert session.exec(select(Wilayah).where(Wilayah.kode == "31.75.01.1003")).one().nama == "Kayu Manis"
