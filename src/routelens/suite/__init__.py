"""Skills (SKILL.md) and routing cases: loading, validation and hashing."""
