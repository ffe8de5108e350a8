"""Training runs gain `lineage` (the dataset build and the sources, with their content hashes, a
run's weights saw) and `exports` (the export folders written from it), so `twin forget` reaches
the models. Existing runs keep NULL: forgetting reads their build's card instead.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("training_runs", sa.Column("lineage", sa.JSON(), nullable=True))
    op.add_column("training_runs", sa.Column("exports", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("training_runs") as batch:
        batch.drop_column("exports")
        batch.drop_column("lineage")
