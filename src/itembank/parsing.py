"""Turn a file's bytes into a record, or into findings that say exactly what is wrong."""

from __future__ import annotations

import json
from typing import Any

from .findings import Finding, error


def parse_record(relpath: str, data: bytes) -> tuple[dict[str, Any] | None, list[Finding]]:
    """Decode and parse one JSON object. Returns (record, []) or (None, [finding])."""
    if not data.strip():
        return None, [
            error(
                relpath,
                "",
                "empty-file",
                "The file is empty. Restore it from git (git checkout -- FILE) or delete it.",
            )
        ]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, [
            error(
                relpath,
                "",
                "not-utf8",
                f"The file is not UTF-8 text (byte {exc.start}, line {line}: "
                f"{data[exc.start : exc.start + 1]!r}). Save it as UTF-8 from your editor.",
            )
        ]
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [
            error(
                relpath,
                "",
                "malformed-json",
                f"Not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}. "
                "Fix the syntax there (a missing comma, quote or bracket is usual).",
            )
        ]
    except RecursionError:
        return None, [
            error(
                relpath, "", "malformed-json", "The JSON is nested too deeply to be a bank record."
            )
        ]
    if not isinstance(record, dict):
        found = "null" if record is None else type(record).__name__
        return None, [
            error(
                relpath,
                "",
                "wrong-type",
                f"The file must hold one JSON object ({{...}}), but holds {found}. "
                "Put the record's fields inside braces.",
            )
        ]
    return record, []
