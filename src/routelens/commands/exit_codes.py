"""The exit codes every command shares (the README's table), defined once.

>>> exit_code_for_signal(15)
143
"""

from __future__ import annotations

EXIT_GATE_FAILED = 1
"""The CI gate failed: errors above max_error_rate, or accuracy below --min-accuracy."""
EXIT_BAD_INPUT = 2
"""Bad input, a bad flag or an unusable store: one line on stderr."""
EXIT_STOPPED_BY_BUDGET = 3
"""--max-cost stopped the work before all of it ran; it resumes."""
EXIT_SIGNAL_BASE = 128
"""Interrupted: 128 + the signal, as shells report it (130 Ctrl-C, 143 SIGTERM)."""


def exit_code_for_signal(signal_number: int) -> int:
    """The exit code of a command a signal interrupted."""
    return EXIT_SIGNAL_BASE + signal_number
