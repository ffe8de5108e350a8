"""Feature pipeline: voice-preserving cleaning, chunking by kind, embedding, indexing."""
