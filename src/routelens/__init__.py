"""routelens: measure, explain and watch how Claude Code skills are routed."""

__version__ = "0.1.0"
