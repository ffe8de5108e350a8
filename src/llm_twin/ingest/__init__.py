"""Ingest: one importer per export format, detected by content, stored in one transaction."""
