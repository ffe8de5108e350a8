"""`twin eval`: held-out evaluation of the base and fine-tuned systems, with and without RAG and ranking."""
