"""Canonical JSON (stable key order, 2-space indent, UTF-8, trailing newline) and hashes, so that
git diffs show only what changed and the same content always has the same hash."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from itembank.core.errors import ValidationFailedError
from itembank.core.findings import Finding, error, pointer


def dumps(record: Any) -> str:
    """The one way records are written to disk: strict JSON only (NaN and infinity are refused,
    never written, since no JSON reader accepts them)."""
    try:
        text = json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
    except ValueError:
        findings = non_json_numbers("", record)
        if not findings:
            raise
        where = ", ".join(f.pointer or "/" for f in findings)
        raise ValidationFailedError(
            f"Not written: {where} holds NaN or infinity, which JSON cannot hold. "
            "Give a finite number there.",
            findings,
        ) from None
    return text + "\n"


def non_json_numbers(relpath: str, value: Any) -> list[Finding]:
    """A `not-a-json-number` finding for every NaN or infinity in a record about to be written."""
    out = []
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            out.append(
                error(
                    relpath,
                    where,
                    "not-a-json-number",
                    f"{node} is not a JSON number (JSON has no NaN or infinity). "
                    "Give a finite number here, or remove the field.",
                )
            )
        elif isinstance(node, dict):
            stack.extend((where + pointer(k), v) for k, v in node.items())
        elif isinstance(node, (list, tuple)):
            stack.extend((where + pointer(i), v) for i, v in enumerate(node))
    return sorted(out)


def _refuse(value: Any) -> Any:
    raise TypeError(type(value).__name__)


#: json.dumps(sort_keys=True, ensure_ascii=False, separators=(",", ":")) made once: dumps builds
#: an encoder per call, a third of the time of hashing an item (validation hashes every one).
#: Without the check for circular values, so anything unusual is left to json.dumps below.
_MAKE = getattr(json.encoder, "c_make_encoder", None)
_COMPACT = (
    _MAKE(None, _refuse, json.encoder.encode_basestring, None, ":", ",", True, False, True)
    if _MAKE is not None
    else None
)


def sha256_of(value: Any) -> str:
    """'sha256:<hex>' of a value's compact canonical JSON."""
    try:
        blob = "".join(_COMPACT(value, 0))  # type: ignore[misc]
    except Exception:  # no C encoder, or a value JSON cannot hold: json.dumps says what
        blob = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()


def git_blob_sha(data: bytes) -> str:
    """The sha git gives a file's content: lets us compare a file with its committed version
    (or the version a user loaded) without asking git."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
