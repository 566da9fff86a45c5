"""Scheduling attempts, judging verdicts, and writing them to the store."""
