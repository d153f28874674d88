"""Canonical JSON (stable key order, 2-space indent, UTF-8, trailing newline) and hashes, so that
git diffs show only what changed and the same content always has the same hash."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def dumps(record: Any) -> str:
    """The one way records are written to disk."""
    return json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def sha256_of(value: Any) -> str:
    """'sha256:<hex>' of a value's compact canonical JSON."""
    blob = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()


def git_blob_sha(data: bytes) -> str:
    """The sha git gives a file's content: lets us compare a file with its committed version
    (or the version a user loaded) without asking git."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
