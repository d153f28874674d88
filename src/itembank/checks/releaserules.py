"""Checks of results release records (releases/<administration>.json): the record agrees with
itself (file name, counts that add up, a letter for every decided candidate, a pass mark within
the form's marks) and with the bank (the form it names exists). A release that contradicts
itself cannot be trusted to say what was approved, so each of these is an error."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from itembank.checks.bankindex import BankIndex
from itembank.core.errors import InvalidIdError
from itembank.core.findings import Finding, error
from itembank.core.layout import locate

Facts = dict[str, Any]


def release_rules(path: str, record: dict[str, Any]) -> Iterator[Finding]:
    """The administration is the file name; met + not met + pending = candidates; one letter
    per met or not met candidate; the pass mark is within the form's maximum."""
    try:
        location = locate(path)
    except InvalidIdError:
        location = None
    admin = record["administration"]
    if location is not None and location.id and admin != location.id:
        yield error(
            path,
            "/administration",
            "id-mismatch",
            f"The administration {admin!r} differs from the file name {location.id!r}. Name "
            f"the file {admin}.json, or set administration to {location.id!r}.",
        )
    c = record["counts"]
    if c["met"] + c["not_met"] + c["pending"] != c["candidates"]:
        yield error(
            path,
            "/counts",
            "release-counts",
            f"met ({c['met']}) + not met ({c['not_met']}) + pending ({c['pending']}) is not "
            f"the {c['candidates']} candidates. Approve the release again from the app or "
            "`itembank results release`, which counts them.",
        )
    if record["letters"]["count"] != c["met"] + c["not_met"]:
        yield error(
            path,
            "/letters/count",
            "release-letters",
            f"{record['letters']['count']} letters were released for {c['met'] + c['not_met']} "
            "decided candidates: there is one letter per met or not met candidate. Approve the "
            "release again.",
        )
    mark = record["pass_mark"]
    if mark["pass_mark"] > mark["max_score"]:
        yield error(
            path,
            "/pass_mark/pass_mark",
            "pass-mark-above-maximum",
            f"The pass mark {mark['pass_mark']} is above the form's {mark['max_score']} marks. "
            "Copy both from the adopted pass-mark record.",
        )


def release_facts(record: dict[str, Any]) -> Facts:
    """What the bank-wide rules need of a release record."""
    return {"administration": record["administration"], "form": record["form"]}


def release_links(index: BankIndex) -> Iterator[Finding]:
    """The form a release names is a committed form of this bank."""
    forms = index.ids("form")
    for path, f in index.valid_of("release"):
        if f["form"] not in forms:
            yield error(
                path,
                "/form",
                "unknown-form",
                f"The form {f['form']!r} does not exist (forms/{f['form']}/manifest.json). A "
                "release is of a committed form: correct the form id.",
            )


__all__ = ["release_facts", "release_links", "release_rules"]
