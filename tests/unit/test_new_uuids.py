"""Bulk UUIDs (``core.models.new_uuids``) are ordinary random UUIDs, judged by the standard library's parser."""

import uuid

from core.models import new_uuids


def test_bulk_uuids_are_distinct_version_4_uuids_in_canonical_text():
    values = new_uuids(5000)
    assert len(values) == len(set(values)) == 5000
    for value in values:
        parsed = uuid.UUID(value)
        assert str(parsed) == value  # lower-case, 8-4-4-4-12
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_no_uuids_asked_none_given():
    assert new_uuids(0) == []
