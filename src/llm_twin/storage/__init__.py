"""Storage: the SQL warehouse (documents with provenance) and the vector store."""
