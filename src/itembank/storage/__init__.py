"""The only place that touches the bank's files and git: reading, atomic saves as commits,
locks, kept versions and caches. Callers import GitStore and its values from here."""

from itembank.storage.files import (
    DEFAULT_MAX_RECORD_BYTES,
    MAX_RECORD_BYTES_CAP,
    MIN_RECORD_BYTES,
    UnreadableFileError,
)
from itembank.storage.gitstore import GitStore
from itembank.storage.history import Commit
from itembank.storage.kept import Kept
from itembank.storage.remote import RemoteSync, SyncStatus
from itembank.storage.replay import SyncOutcome

__all__ = [
    "DEFAULT_MAX_RECORD_BYTES",
    "MAX_RECORD_BYTES_CAP",
    "MIN_RECORD_BYTES",
    "Commit",
    "GitStore",
    "Kept",
    "RemoteSync",
    "SyncOutcome",
    "SyncStatus",
    "UnreadableFileError",
]
