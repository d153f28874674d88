"""Turn a file's bytes into a record, or into findings that say exactly what is wrong.

JSON is read strictly: a key given twice in one object (readers disagree on which one counts)
and NaN/Infinity (not JSON at all, yet Python's reader accepts them) are findings at their
pointer, so what a person sees in the file is exactly what the bank uses.
"""

from __future__ import annotations

import json
import math
from typing import Any

from itembank.core.findings import Finding, error, pointer


class _Duplicated(dict[str, Any]):
    """An object in which some keys appeared more than once (the last value is kept)."""

    duplicates: list[str]


class _NotANumber:
    """Stands for NaN, Infinity, -Infinity or a number too big to be finite, where it was."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    record = dict(pairs)
    if len(record) == len(pairs):
        return record
    seen: set[str] = set()
    marked = _Duplicated(record)
    marked.duplicates = [k for k, _ in pairs if k in seen or seen.add(k)]  # type: ignore[func-returns-value]
    return marked


def _float(text: str) -> float | _NotANumber:
    value = float(text)
    return value if math.isfinite(value) else _NotANumber(text)


def strict_loads(text: str) -> tuple[Any, bool]:
    """json.loads that marks duplicate keys and non-finite numbers; (value, anything marked)."""
    marked = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal marked
        record = _object(items)
        marked = marked or isinstance(record, _Duplicated)
        return record

    def number(text: str) -> float | _NotANumber:
        nonlocal marked
        value = _float(text)
        marked = marked or isinstance(value, _NotANumber)
        return value

    def constant(text: str) -> _NotANumber:
        nonlocal marked
        marked = True
        return _NotANumber(text)

    value = json.loads(text, object_pairs_hook=pairs, parse_float=number, parse_constant=constant)
    return value, marked


def _strict_findings(relpath: str, value: Any) -> list[Finding]:
    """Findings for every duplicated key and non-JSON number in a value from strict_loads."""
    out = []
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, _NotANumber):
            out.append(
                error(
                    relpath,
                    where,
                    "not-a-json-number",
                    (
                        f"{node.text} is not a JSON number (JSON has no NaN or infinity)"
                        if node.text in ("NaN", "Infinity", "-Infinity")
                        else f"{node.text[:40]} is too large to be a finite number"
                    )
                    + "; other programs reject or misread it. Write a finite number here, "
                    "or remove the field.",
                )
            )
        elif isinstance(node, dict):
            for key in dict.fromkeys(getattr(node, "duplicates", [])):
                out.append(
                    error(
                        relpath,
                        where + pointer(key),
                        "duplicate-key",
                        f"The key {key!r} appears more than once in this object; programs "
                        "disagree on which one counts. Keep one and delete the others.",
                    )
                )
            stack.extend((where + pointer(k), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((where + pointer(i), v) for i, v in enumerate(node))
    return sorted(out)


def parse_record(relpath: str, data: bytes) -> tuple[dict[str, Any] | None, list[Finding]]:
    """Decode and parse one JSON object. Returns (record, []) or (None, [finding, ...])."""
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
        record, marked = strict_loads(text)
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
    except ValueError:  # an integer of more digits than Python converts
        return None, [
            error(
                relpath,
                "",
                "malformed-json",
                "The JSON holds a whole number with thousands of digits, which cannot be read. "
                "Shorten the number.",
            )
        ]
    if marked:
        return None, _strict_findings(relpath, record)
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
