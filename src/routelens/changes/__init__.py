"""SKILL.md history from git: change events, the runs that tested each version, and impact.

`scan.scan_repository` walks the history; `routelens.store.changes` records and reads the
events; `timeline`, `impact` and `diff` are pure functions over what those return.
"""

from routelens.changes.model import ChangeEvent, ChangeKind, StoredChangeEvent

__all__ = ["ChangeEvent", "ChangeKind", "StoredChangeEvent"]
