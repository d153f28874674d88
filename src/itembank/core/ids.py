"""Ids are permanent, human-readable and safe as file names: checked before they become paths."""

from __future__ import annotations

import re
from functools import cache

from itembank.core.errors import InvalidIdError
from itembank.core.schemas import common_def

ID_KINDS = ("content_id", "slug", "review_id", "statement_id", "option_id")


@cache
def pattern(kind: str) -> re.Pattern[str]:
    """The compiled pattern for an id kind, taken from common.schema.json."""
    return re.compile(common_def(kind)["pattern"])


def is_id(kind: str, value: object) -> bool:
    """True when value is a string of that id kind (and so safe as a file name)."""
    if not isinstance(value, str):
        return False
    limit = common_def(kind).get("maxLength")
    if limit is not None and len(value) > limit:
        return False
    return pattern(kind).fullmatch(value) is not None


def check_id(kind: str, value: object) -> str:
    """Return value if it is a valid id of that kind, else raise InvalidIdError saying why."""
    if is_id(kind, value):
        return str(value)
    example = {
        "content_id": "GK-0012",
        "slug": "children-act-1989",
        "review_id": "20261123T094500Z-a-okafor",
        "statement_id": "PR-05",
        "option_id": "B",
    }[kind]
    raise InvalidIdError(
        f"{value!r} is not a valid {kind.replace('_', ' ')}: use the form {example} "
        f"(pattern {pattern(kind).pattern})"
    )


def slugify(text: str) -> str:
    """A slug made from a person's name or a title (used in review ids)."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:40].strip("-") or "anonymous"
