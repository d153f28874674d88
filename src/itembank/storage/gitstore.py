"""GitStore: the only object that touches the bank's files on disk and git.

Every save is an atomic write (temporary file, fsync, rename) of the changed records and one
commit of exactly those files, by the person who made the change, under a lock. A save checks
that each file is still the version the person loaded; if not, it refuses and keeps their
version in the repository's git folder, so nothing is lost. The class is composed of one part
per concern, each in its own module: reading (repo), history, kept versions (kept), the guards
against odd git states and foreign locks (guards), saving, and pushing every save to the
bank's git remote when bank.json names one (remote).
"""

from __future__ import annotations

from itembank.storage.guards import Guards
from itembank.storage.history import History
from itembank.storage.kept import Keeping
from itembank.storage.remote import Syncing
from itembank.storage.repo import Reading


class GitStore(Syncing, Keeping, Guards, History, Reading):
    """A bank folder inside a git working tree."""
