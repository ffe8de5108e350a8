"""Sources gain `timezone`: the IANA zone a chat export's zone-less dates were read in
(`twin ingest --timezone`) and are shown in. Existing sources keep NULL (read, and shown, as UTC).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sources", sa.Column("timezone", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("timezone")
