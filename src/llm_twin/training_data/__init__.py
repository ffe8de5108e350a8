"""Training data from the owner's own words (the stage between features and training).

Answers are always the owner's real text, minimally cleaned; a model (or a deterministic extractive
fallback) only writes the instruction that could have produced each one (back-translation).

- `owner_texts`: the owner's documents from the warehouse, split into answer-sized units
- `quality`: filters (drafts, length, language, templated, boilerplate, duplicates), each counted
- `instructions`: instruction writers (the configured model, or extractive) and the overlap check
- `conversations`: chat windows -> the owner's reply (others redacted, never targets)
- `preferences`: preference pairs for DPO from pluggable sources (base-model rejections first)
- `splits`: the newest share per platform is the test split; no near-duplicate leaks into train
- `builder`: runs the whole build; `store`: versioned builds on disk with a dataset card
"""
