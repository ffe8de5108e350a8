"""Baseline: the schema of the last release before revisions (sources, documents, chunks,
training_runs, generations).

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

from alembic import op

from llm_twin.storage.migrations.baseline import baseline_metadata

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    baseline_metadata().create_all(op.get_bind())


def downgrade() -> None:
    baseline_metadata().drop_all(op.get_bind())
