"""The warehouse's Alembic environment: `env.py`, numbered revisions in `versions/`, and the frozen
baseline schema. `storage/warehouse.py` runs them when a workspace opens; no alembic.ini is needed.

A new revision: copy the newest file in `versions/` to `vNNNN_<what>.py`, set `revision` to the
next number and `down_revision` to the previous one, and write `upgrade` with `alembic.op` (SQLite
needs `op.batch_alter_table` for anything beyond adding a column); then change `storage/models.py`
to match. `tests/storage/test_migrations.py` checks that the migrated schema equals the models.
"""
