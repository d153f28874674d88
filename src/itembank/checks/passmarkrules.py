"""Checks of the compromise records of standard setting: a judge's acceptable ranges
(standard_setting/<exercise>/ranges/<id>.json) and the chair's adopted pass mark
(standard_setting/<exercise>/adopted/<form>.json). Their own consistency (a minimum above its
maximum, an adopted figure that is not the method's), the facts the bank-wide rules need, and
those rules: an adoption of a committed form by the exercise's facilitator (the chair); a
judge's ranges are checked like their ratings, in panelrules. A pass mark decides candidates'
results, so a record that cannot be tied to its exercise, form and chair is an error."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from itembank.checks.bankindex import BankIndex
from itembank.core.findings import Finding, error, pointer

Facts = dict[str, Any]
RANGE_FIELDS = (
    "pass_mark_min",
    "pass_mark_max",
    "fail_rate_min",
    "fail_rate_max",
    "pass_mark",
    "pass_rate",
)


def range_problems(r: Mapping[str, object]) -> list[tuple[str, str]]:
    """(field, what is wrong) for a judge's entries: numbers from 0 to 100, each minimum no
    more than its maximum, the judge's own pass mark within their range. Empty when fine.
    Shared by the service (before anything is saved) and validate (for any committed file)."""
    out: list[tuple[str, str]] = []
    values: dict[str, float] = {}
    for name in RANGE_FIELDS:
        value = r.get(name)
        words = name.replace("_", " ")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            out.append((name, f"Give the {words} as a number from 0 to 100 (a percentage)."))
        elif not 0 <= float(value) <= 100:
            out.append((name, f"The {words} is {value}: it must be from 0 to 100 (a percentage)."))
        else:
            values[name] = float(value)
    for low, high, what in (
        ("pass_mark_min", "pass_mark_max", "pass mark"),
        ("fail_rate_min", "fail_rate_max", "fail rate"),
    ):
        if low in values and high in values and values[low] > values[high]:
            out.append(
                (
                    low,
                    f"The lowest acceptable {what} ({values[low]:g}%) is above the highest "
                    f"({values[high]:g}%): swap them.",
                )
            )
    if {"pass_mark", "pass_mark_min", "pass_mark_max"} <= set(values) and not (
        values["pass_mark_min"] <= values["pass_mark"] <= values["pass_mark_max"]
    ):
        out.append(
            (
                "pass_mark",
                f"The judge's own pass mark ({values['pass_mark']:g}%) is outside their "
                f"acceptable range ({values['pass_mark_min']:g}% to "
                f"{values['pass_mark_max']:g}%): change one of them.",
            )
        )
    return out


def ranges_rules(path: str, record: dict[str, Any]) -> Iterator[Finding]:
    """A committed ranges record makes sense on its own (the schema checks the types)."""
    for name, message in range_problems(record):
        yield error(path, pointer(name), "bad-range", message)


def adoption_rules(path: str, record: dict[str, Any]) -> Iterator[Finding]:
    """The adopted mark is within the maximum, is the named method's figure, and a chair's own
    value lies within the judges' acceptable range."""
    mark, top, method = float(record["pass_mark"]), float(record["max_score"]), record["method"]
    if record["id"] != record["form"]:
        yield error(
            path,
            "/id",
            "id-mismatch",
            f"An adoption's id is its form's id: set id to {record['form']!r}.",
        )
    if mark > top:
        yield error(
            path,
            "/pass_mark",
            "pass-mark-above-max",
            f"The pass mark {mark:g} is above the form's maximum score {top:g}.",
        )
    if method != "chair":
        figure = record["figures"][method].get("pass_mark")
        if figure is None or float(figure) != mark:
            yield error(
                path,
                "/pass_mark",
                "not-the-figure",
                f"The method is {method}, whose figure is "
                f"{'none' if figure is None else figure}, but the pass mark is {mark:g}. Adopt "
                "the method's figure, or a value of your own as method 'chair'.",
            )
    else:
        acceptable = record.get("acceptable")
        if not acceptable:
            yield error(
                path,
                "/acceptable",
                "no-acceptable-range",
                "A chair's own pass mark needs the judges' acceptable range to lie in: it "
                "has none. Adopt one of the methods' figures instead.",
            )
        elif not acceptable[0] <= mark <= acceptable[1]:
            yield error(
                path,
                "/pass_mark",
                "outside-acceptable-range",
                f"The chair's pass mark {mark:g} is outside the judges' acceptable range "
                f"({acceptable[0]} to {acceptable[1]} marks).",
            )


def ranges_facts(record: dict[str, Any]) -> Facts:
    return {"exercise": record["exercise"], "panel": record["panel"], "judge": record["judge"]}


def adoption_facts(record: dict[str, Any]) -> Facts:
    return {
        "exercise": record["exercise"],
        "form": record["form"],
        "decided_by": record["decided_by"],
    }


def passmark_links(index: BankIndex) -> Iterator[Finding]:
    """Adoptions of a committed form by the exercise's facilitator, its chair, in an exercise
    that exists (a judge's ranges are checked with the ratings, in panelrules)."""
    exercises = index.ids("exercise")
    for path, f in index.valid_of("adoption"):
        ex_path = exercises.get(f["exercise"])
        if ex_path is None:
            yield error(
                path,
                "/exercise",
                "unknown-exercise",
                f"The exercise {f['exercise']!r} does not exist.",
            )
            continue
        exercise = index.facts[ex_path]
        if f["form"] not in index.ids("form"):
            yield error(
                path,
                "/form",
                "unknown-form",
                f"The form {f['form']!r} has no manifest in this bank (forms/{f['form']}/).",
            )
        chair = str(exercise.get("facilitator", ""))
        if exercise["valid"] and chair and f["decided_by"].lower() != chair.lower():
            yield error(
                path,
                "/decided_by",
                "not-the-chair",
                f"{f['decided_by']} adopted this pass mark, but only the exercise's "
                f"facilitator, {chair}, chairs it.",
            )
