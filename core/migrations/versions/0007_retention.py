"""retention: stored files remember when the retention period purged their bytes

Revision ID: 0007retention01
Revises: b67621e40714
Create Date: 2026-11-28 14:40:00

Plain ADD COLUMN on both databases (nullable, no default): SQLite needs no table rebuild, so the foreign keys
pointing at ``storedfile`` and the audit guard triggers are left alone. ``auditentry`` is not touched.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import core.models


revision: str = '0007retention01'
down_revision: Union[str, None] = 'b67621e40714'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('storedfile', sa.Column('purged_at', core.models.UTCDateTime(timezone=True), nullable=True))
    op.add_column('storedfile', sa.Column('purged_after_years', sa.Integer(), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): a batch rebuild of storedfile would trip the foreign keys pointing at it.
    op.drop_column('storedfile', 'purged_after_years')
    op.drop_column('storedfile', 'purged_at')
