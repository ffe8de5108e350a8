"""Documents gain `audience` (public, unlisted, followers, private, direct, draft), filled for
existing rows from their kind and metadata by the same rule imports use.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from llm_twin.storage.models import document_audience

revision = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    # ADD COLUMN with a constant default needs no table copy, on SQLite as on PostgreSQL.
    op.add_column("documents", sa.Column("audience", sa.String(16), nullable=False,
                                         server_default="public"))
    op.create_index("ix_documents_audience", "documents", ["audience"])
    documents = sa.table("documents", sa.column("id", sa.Integer), sa.column("kind", sa.String),
                         sa.column("metadata", sa.JSON), sa.column("audience", sa.String))
    connection = op.get_bind()
    changes: list[dict[str, object]] = []
    for row in connection.execute(sa.select(documents.c.id, documents.c.kind,
                                            documents.c.metadata)):
        audience = document_audience(row.kind, row.metadata)
        if audience != "public":
            changes.append({"row_id": row.id, "audience": audience})
    update = (documents.update().where(documents.c.id == sa.bindparam("row_id"))
              .values(audience=sa.bindparam("audience")))
    for start in range(0, len(changes), _BATCH):
        connection.execute(update, changes[start:start + _BATCH])


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_index("ix_documents_audience")
        batch.drop_column("audience")
