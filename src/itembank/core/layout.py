"""Where each kind of record lives in a bank, and which id its path implies.

A bank is a folder: bank.json, references.json, standards/, items/, stimuli/, scenarios/,
learning_points/ (reviewed development suggestions that candidate letters quote),
reviews/<TARGET>/<review>.json, reviews/<TARGET>/blind/<blind answer>.json,
standard_setting/<exercise>/(exercise.json|ratings/<id>.json|ranges/<id>.json|adopted/<form>.json),
blueprints/,
forms/<form>/manifest.json, statistics/<administration>/<ITEM-ID>.json (aggregate statistics of
one item version in one administration: not content, never reviewed, never on a form),
releases/<administration>.json (the results team's approval to release its letters: counts and
one hash, no candidate data).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from itembank.core.errors import InvalidIdError
from itembank.core.ids import check_id, is_id


@dataclass(frozen=True)
class Location:
    """A bank file's kind and the id(s) its path gives."""

    kind: str
    id: str
    parent: str | None = None  # the review's target, the rating's exercise


_RULES: list[tuple[re.Pattern[str], str, str, str | None]] = [
    # regex over the relative path, kind, id-kind of group 'id', id-kind of group 'parent'
    (re.compile(r"^bank\.json$"), "bank", "", None),
    (re.compile(r"^references\.json$"), "references", "", None),
    (re.compile(r"^standards/(?P<id>[^/]+)\.json$"), "framework", "slug", None),
    (re.compile(r"^items/(?P<id>[^/]+)\.json$"), "item", "content_id", None),
    (re.compile(r"^stimuli/(?P<id>[^/]+)\.json$"), "stimulus", "content_id", None),
    (re.compile(r"^scenarios/(?P<id>[^/]+)\.json$"), "scenario", "content_id", None),
    (re.compile(r"^learning_points/(?P<id>[^/]+)\.json$"), "learning_point", "content_id", None),
    (
        re.compile(r"^reviews/(?P<parent>[^/]+)/blind/(?P<id>[^/]+)\.json$"),
        "blind_answer",
        "review_id",
        "content_id",
    ),
    (
        re.compile(r"^reviews/(?P<parent>[^/]+)/(?P<id>[^/]+)\.json$"),
        "review",
        "review_id",
        "content_id",
    ),
    (re.compile(r"^standard_setting/(?P<id>[^/]+)/exercise\.json$"), "exercise", "slug", None),
    (
        re.compile(r"^standard_setting/(?P<parent>[^/]+)/ratings/(?P<id>[^/]+)\.json$"),
        "rating",
        "review_id",
        "slug",
    ),
    (
        re.compile(r"^standard_setting/(?P<parent>[^/]+)/ranges/(?P<id>[^/]+)\.json$"),
        "ranges",
        "review_id",
        "slug",
    ),
    (
        re.compile(r"^standard_setting/(?P<parent>[^/]+)/adopted/(?P<id>[^/]+)\.json$"),
        "adoption",
        "slug",
        "slug",
    ),
    (re.compile(r"^blueprints/(?P<id>[^/]+)\.json$"), "blueprint", "slug", None),
    (re.compile(r"^forms/(?P<id>[^/]+)/manifest\.json$"), "form", "slug", None),
    (
        re.compile(r"^statistics/(?P<parent>[^/]+)/(?P<id>[^/]+)\.json$"),
        "statistics",
        "content_id",
        "slug",
    ),
    (re.compile(r"^releases/(?P<id>[^/]+)\.json$"), "release", "slug", None),
]

#: Kinds whose records go through review and have a workflow status.
CONTENT_KINDS = ("item", "stimulus", "scenario", "learning_point")

#: The folder of each content kind (content ids share one namespace across them).
CONTENT_FOLDERS = {
    "item": "items",
    "stimulus": "stimuli",
    "scenario": "scenarios",
    "learning_point": "learning_points",
}


def locate(relpath: str) -> Location | None:
    """The kind and expected id of a bank file, or None if the path is not one a bank uses.

    Raises InvalidIdError when the path has the right shape but its name is not a valid id.
    """
    for regex, kind, id_kind, parent_kind in _RULES:
        match = regex.match(relpath)
        if not match:
            continue
        groups = match.groupdict()
        ident = groups.get("id") or ""
        if id_kind and not is_id(id_kind, ident):
            raise InvalidIdError(f"{ident!r} is not a valid {id_kind.replace('_', ' ')}")
        parent = groups.get("parent")
        if parent_kind and not is_id(parent_kind, parent):
            raise InvalidIdError(f"{parent!r} is not a valid {parent_kind.replace('_', ' ')}")
        return Location(kind, ident, parent)
    return None


def path_for(kind: str, ident: str = "", parent: str | None = None) -> str:
    """The relative path of a record; every id is checked before it becomes part of a path."""
    if kind == "bank":
        return "bank.json"
    if kind == "references":
        return "references.json"
    if kind in ("framework", "blueprint"):
        folder = "standards" if kind == "framework" else "blueprints"
        return f"{folder}/{check_id('slug', ident)}.json"
    if kind in CONTENT_KINDS:
        return f"{CONTENT_FOLDERS[kind]}/{check_id('content_id', ident)}.json"
    if kind == "review":
        return f"reviews/{check_id('content_id', parent)}/{check_id('review_id', ident)}.json"
    if kind == "blind_answer":
        target = check_id("content_id", parent)
        return f"reviews/{target}/blind/{check_id('review_id', ident)}.json"
    if kind == "exercise":
        return f"standard_setting/{check_id('slug', ident)}/exercise.json"
    if kind == "rating":
        exercise = check_id("slug", parent)
        return f"standard_setting/{exercise}/ratings/{check_id('review_id', ident)}.json"
    if kind in ("ranges", "adoption"):
        exercise = check_id("slug", parent)
        if kind == "ranges":
            return f"standard_setting/{exercise}/ranges/{check_id('review_id', ident)}.json"
        return f"standard_setting/{exercise}/adopted/{check_id('slug', ident)}.json"
    if kind == "form":
        return f"forms/{check_id('slug', ident)}/manifest.json"
    if kind == "statistics":
        administration = check_id("slug", parent)
        return f"statistics/{administration}/{check_id('content_id', ident)}.json"
    if kind == "release":
        return f"releases/{check_id('slug', ident)}.json"
    raise ValueError(f"unknown kind {kind!r}")


def kind_of(record: dict[str, Any]) -> str:
    """Tell what kind of record a dict is, from the fields only that kind has."""
    keys = set(record)
    if "administration" in keys and "facility" in keys:
        return "statistics"
    if "approved_by" in keys and "letters" in keys:
        return "release"
    if "format" in keys and "stem" in keys:
        return "item"
    if "exercises" in keys:
        return "scenario"
    if "text" in keys and "items" in keys:
        return "stimulus"
    if "text" in keys and "standards" in keys and "references" in keys and "title" in keys:
        return "learning_point"
    if "response" in keys and "target" in keys:
        return "blind_answer"
    if "decision" in keys and "target" in keys:
        return "review"
    if "pass_mark_min" in keys and "judge" in keys:
        return "ranges"
    if "decided_by" in keys and "figures" in keys:
        return "adoption"
    if "judge" in keys:
        return "rating"
    if "method" in keys and "panels" in keys:
        return "exercise"
    if "statements" in keys:
        return "framework"
    if "references" in keys and "id" not in keys:
        return "references"
    if "sections" in keys and "blueprint_hash" in keys:
        return "form"
    if "sections" in keys:
        return "blueprint"
    if "review_policy" in keys:
        return "bank"
    raise InvalidIdError("cannot tell what kind of record this is: pass kind=")


def path_of(record: dict[str, Any], kind: str | None = None) -> str:
    """The path a record belongs at, from its own id fields (checked)."""
    kind = kind or kind_of(record)
    parent = {
        "review": record.get("target"),
        "blind_answer": record.get("target"),
        "rating": record.get("exercise"),
        "ranges": record.get("exercise"),
        "adoption": record.get("exercise"),
        "statistics": record.get("administration"),
    }.get(kind)
    ident = record.get({"statistics": "item", "release": "administration"}.get(kind, "id"), "")
    return path_for(kind, str(ident), str(parent) if parent is not None else None)
