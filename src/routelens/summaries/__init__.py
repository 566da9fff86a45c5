"""Executive summaries: facts from the store, a model's text checked number by number, or a
deterministic offline text; cached on disk (docs/summaries.md)."""
