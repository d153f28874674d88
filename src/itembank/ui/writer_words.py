"""Findings in a writer's words. The schema's messages (checks/structure.py) are written for
whoever edits the JSON file: "Expected an object here, found a list []". A writer never sees
the file, only boxes, so a structural finding is said again here naming the box it concerns
and what to do in it. The bank's own rules and the item-writing checks already speak plainly
and pass through unchanged."""

from __future__ import annotations

import re

from itembank.core.findings import Finding

LETTERS = "ABCDEFGHIJ"

#: the codes checks/structure.py gives schema findings (the ones written for the file's editor)
STRUCTURE_CODES = frozenset(
    {
        "missing-field",
        "unknown-field",
        "wrong-type",
        "not-allowed-value",
        "bad-format",
        "too-short",
        "too-long",
        "too-few",
        "too-many",
        "duplicate-entries",
        "out-of-range",
        "not-allowed-here",
        "schema",
    }
)

FIELDS = {
    "stem": "The question (stem)",
    "options": "The options",
    "key": "The correct answer",
    "rationale": "The rationale for the key",
    "standards": "Standards",
    "references": "References",
    "enemies": "Enemies",
    "tags": "Tags",
    "notes": "Notes",
    "roles": "Roles",
    "section": "Section",
    "stimulus": "The case",
    "format": "Format",
    "scoring": "Scoring",
    "select_count": "The number of options to choose",
    "difficulty_estimate": "The difficulty estimate",
    "fixed_order": "The option order",
    "id": "The item's id",
    "author": "The author",
    "status": "The status",
    "title": "The title",
    "text": "The text",
    "items": "The questions of this case",
    "exercises": "The exercises",
}

#: what to do in a box whose value has the wrong form (the form fills it, so re-entering helps)
FIXES = {
    "key": "Tick the correct option(s) again (for true/false statements, choose true or false "
    "for each).",
    "options": "Remove the option and add it again.",
    "standards": "Remove the standard and add it again.",
    "enemies": "Type item ids separated by commas, e.g. GK-0012, GK-0031.",
    "tags": "Type short words separated by commas.",
    "references": "Choose the references from the list again.",
}


def field_name(pointer: str) -> str:
    """'/options/2/text' -> "Option C's text"; '/standards/0/statement' -> "Standard 1's
    statement"; '/stem' -> 'The question (stem)'; '' -> 'This item'."""
    parts = [p for p in pointer.split("/")[1:] if p != ""]
    if not parts:
        return "This item"
    head = parts[0]
    if len(parts) > 1 and parts[1].isdigit():
        index = int(parts[1])
        if head == "options" and index < len(LETTERS):
            whole = f"Option {LETTERS[index]}"
        elif head == "standards":
            whole = f"Standard {index + 1}"
        else:
            whole = f"Entry {index + 1} of {FIELDS.get(head, head).lower()}"
        if len(parts) > 2:
            return f"{whole}'s {parts[2].replace('_', ' ')}"
        return whole
    if head == "key" and len(parts) > 1:
        return f"The answer for statement {parts[1]}"
    return FIELDS.get(head, head.replace("_", " ").capitalize())


def _head(pointer: str) -> str:
    parts = pointer.split("/")[1:]
    return parts[0] if parts else ""


def writer_message(finding: Finding) -> str:
    """The finding as a writer reads it: the box named, the problem and the fix in plain
    words, with no JSON, schema or Python text."""
    if finding.code not in STRUCTURE_CODES:
        return finding.message
    name = field_name(finding.pointer)
    fix = FIXES.get(_head(finding.pointer), "Fill it in again in its box.")
    message = finding.message
    if finding.code == "missing-field":
        return f"{name} is missing. Fill it in."
    if finding.code == "too-short":
        if message.startswith("Must not be empty"):
            return f"{name} is empty. Write it."
        return f"{name} is too short. {_first_sentence(message, 'Too short: ')}"
    if finding.code == "too-long":
        return f"{name} is too long. {_first_sentence(message, 'Too long: ')}"
    if finding.code == "too-few":
        return f"{name}: too few. {_counts(message)} Add more."
    if finding.code == "too-many":
        return f"{name}: too many. {_counts(message)} Remove some."
    if finding.code == "duplicate-entries":
        return f"{name}: the same entry is there twice. Keep one of each."
    if finding.code == "out-of-range":
        bound = re.search(r"must be (.+)\.$", message)
        return f"{name} must be {bound.group(1) if bound else 'within its range'}."
    if finding.code == "not-allowed-value":
        choices = re.search(r"Use one of: (.+)\.$", message)
        listed = f" Choose one of: {choices.group(1)}." if choices else ""
        return f"{name} has a value the bank does not accept.{listed}"
    if finding.code == "bad-format":
        described = re.search(r"\(([^()]+)\)\.$", message)
        form = f" It should be {described.group(1)}." if described else ""
        return f"{name} is not written in the expected form.{form}"
    if finding.code in ("unknown-field", "not-allowed-here"):
        return f"{name} is not used for this kind of item: remove it or change the format."
    # wrong-type and anything the schema says in its own words
    return f"{name} is not filled in the way the bank can store it. {fix}"


def _first_sentence(message: str, prefix: str) -> str:
    text = message.removeprefix(prefix)
    return text[:1].upper() + text[1:]


def _counts(message: str) -> str:
    """'Has 2 entries; needs at least 3 for format X. Add more.' -> 'There are 2; at least 3
    are needed.' (the schema's own figures, without its wording)."""
    have = re.search(r"Has (\d+) entries", message)
    least = re.search(r"at least (\d+)", message)
    most = re.search(r"at most (\d+)", message)
    out = f"There are {have.group(1)}" if have else "The number is wrong"
    if least:
        out += f"; at least {least.group(1)} are needed"
    if most:
        out += f"; at most {most.group(1)} are allowed"
    return out + "."
