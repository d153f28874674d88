"""Structural validation against the JSON Schemas, with messages written for the person who made
the mistake (what is wrong, where, and the fix) rather than for a programmer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

from itembank.core.findings import Finding, error, pointer
from itembank.core.schemas import iter_schema_errors

_JSON_TYPES = {
    dict: "an object",
    list: "a list",
    str: "text",
    bool: "true/false",
    int: "a number",
    float: "a number",
    type(None): "null",
}


def _type_name(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _context(root: Any, err: ValidationError) -> str:
    """' for format X' when the rule comes from a per-format branch of the schema."""
    if "then" in err.schema_path and isinstance(root, dict) and "format" in root:
        return f" for format {root['format']}"
    return ""


def _describe(schema: dict[str, Any]) -> str:
    text = schema.get("description", "")
    return f" ({text})" if text else ""


def _messages(root: Any, err: ValidationError) -> Iterator[tuple[str, str, str]]:
    """(pointer, code, message) for one jsonschema error."""
    where = pointer(*err.absolute_path)
    kind, value, inst = err.validator, err.validator_value, err.instance
    ctx = _context(root, err)
    if kind == "required":
        match = re.match(r"'(.+)' is a required property", err.message)
        name = match.group(1) if match else str(value)
        desc = _describe(err.schema.get("properties", {}).get(name, {}))
        yield (
            where + pointer(name),
            "missing-field",
            f"Missing required field '{name}'{ctx}{desc}. Add it.",
        )
    elif kind == "additionalProperties" and isinstance(inst, dict):
        allowed = sorted(err.schema.get("properties", {}))
        for name in sorted(set(inst) - set(allowed)):
            hint = f" Allowed here: {', '.join(allowed)}." if allowed else ""
            yield (
                where + pointer(name),
                "unknown-field",
                f"Unknown field '{name}'. Remove it or correct its spelling.{hint}",
            )
    elif kind == "type":
        yield (
            where,
            "wrong-type",
            f"Expected {_describe_type(value)} here{ctx}, found {_type_name(inst)} {_short(inst)}.",
        )
    elif kind == "enum":
        yield (
            where,
            "not-allowed-value",
            f"{_short(inst)} is not allowed here. Use one of: {', '.join(map(str, value))}.",
        )
    elif kind == "const":
        yield (where, "not-allowed-value", f"Must be {value!r}, found {_short(inst)}.")
    elif kind == "pattern":
        yield (
            where,
            "bad-format",
            f"{_short(inst)} does not have the expected form{_describe(err.schema)}.",
        )
    elif kind == "minLength":
        msg = "Must not be empty." if value == 1 else f"Too short: at least {value} characters."
        yield (where, "too-short", msg + " Write the text here.")
    elif kind == "maxLength":
        yield (where, "too-long", f"Too long: {len(inst)} characters, at most {value}. Shorten it.")
    elif kind in ("minItems", "minProperties"):
        yield (where, "too-few", f"Has {len(inst)} entries; needs at least {value}{ctx}. Add more.")
    elif kind in ("maxItems", "maxProperties"):
        yield (
            where,
            "too-many",
            f"Has {len(inst)} entries; at most {value} allowed{ctx}. Remove some.",
        )
    elif kind == "uniqueItems":
        yield (
            where,
            "duplicate-entries",
            "The same entry appears more than once. Keep one of each.",
        )
    elif kind in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        word = {
            "minimum": "at least",
            "exclusiveMinimum": "more than",
            "maximum": "at most",
            "exclusiveMaximum": "less than",
        }[kind]
        yield (where, "out-of-range", f"{_short(inst)} is out of range: must be {word} {value}.")
    elif kind == "not" and isinstance(value, dict) and list(value) == ["required"]:
        for name in value["required"]:
            yield (
                where + pointer(name),
                "not-allowed-here",
                f"Remove '{name}': it is not used{ctx or ' here'}.",
            )
    elif kind == "propertyNames":
        yield (where, "bad-format", f"{_short(inst)} is not an allowed name here.")
    else:
        yield (where, "schema", f"{err.message[:300]}")


def _describe_type(value: Any) -> str:
    names = value if isinstance(value, list) else [value]
    words = {
        "object": "an object",
        "array": "a list",
        "string": "text",
        "boolean": "true/false",
        "integer": "a whole number",
        "number": "a number",
        "null": "null",
    }
    return " or ".join(words.get(str(n), str(n)) for n in names)


def structural_findings(relpath: str, kind: str, record: Any) -> list[Finding]:
    """All schema findings for one record; empty when it conforms."""
    out = []
    for err in iter_schema_errors(kind, record):
        for where, code, message in _messages(record, err):
            out.append(error(relpath, where, code, message))
    return out
