"""Exceptions for situations a caller cannot continue from. Problems in bank files are not
exceptions: they are findings (see findings.py), so one bad file never hides the others."""

from __future__ import annotations

from typing import Any


class ItembankError(Exception):
    """Base class: a clear message for a person, never a traceback."""


class BankNotFoundError(ItembankError):
    """The bank folder does not exist, has no bank.json, or is not inside a git repository."""


class InvalidIdError(ItembankError, ValueError):
    """A string that should be an id is not one (and so must never become a path)."""


class UnknownIdError(ItembankError, KeyError):
    """No record with that id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown id"


class IdentityError(ItembankError):
    """No usable 'Name <email>' for the person making a change."""


class ValidationFailedError(ItembankError):
    """A record was refused because it has errors; the findings say where and how to fix them."""

    def __init__(self, message: str, findings: list[Any]) -> None:
        super().__init__(message)
        self.findings = findings


class WorkflowError(ItembankError):
    """A status change that the workflow does not allow."""


class SaveRefusedError(ItembankError):
    """A save that was not made. The caller's version is kept at ``kept_at`` (None when it
    could not be kept anywhere: the message then says so). ``why`` is a short reason code:
    conflict, repository-state, git-lock, uncommitted-change, disk-full, read-only,
    permission, disk, git."""

    def __init__(self, message: str, kept_at: str | None = None, why: str = "refused") -> None:
        super().__init__(message)
        self.kept_at = kept_at
        self.why = why


class ConflictError(SaveRefusedError):
    """The file changed since it was loaded. The caller's version is kept at ``kept_at``."""

    def __init__(self, message: str, kept_at: str | None = None, why: str = "conflict") -> None:
        super().__init__(message, kept_at, why)


class RemoteUnreachableError(ItembankError):
    """The bank's git remote could not be reached or refused the push; local commits are kept
    and pushed by the next save or sync (the message says why and how to fix it)."""


class SyncRefusedError(ItembankError):
    """A sync that cannot be made safely (no remote configured, a rewritten remote branch, a
    detached HEAD, an unfinished git operation, uncommitted files in the way); nothing was
    changed and the message names the fix."""


class StorageError(ItembankError):
    """git, the disk or the operating system failed; the message says what happened in plain
    words (never a traceback)."""


class ReviewInputError(ItembankError):
    """A panel member's answers or ratings cannot be recorded as they are; the message says
    what to fix (raised by the review and standard-setting sections)."""
