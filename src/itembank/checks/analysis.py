"""Everything that can be checked from one file alone: parse, schema, local rules, prose terms,
and a compact summary ('facts') that the bank-wide rules use. A pure function of the file's
bytes and the reference catalogue, so its result can be cached by the file's git blob sha.

Just over 500 lines, for a reason: each kind's local rules sit next to the facts they give the
bank-wide rules (FACTS), so a rule and what the cache keeps of it are read and changed together;
splitting by kind is the next step if it grows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from itembank.checks.currency import TermMatcher, may_flag, status_on, term_findings
from itembank.checks.learningrules import learning_point_facts, learning_point_rules
from itembank.checks.passmarkrules import (
    adoption_facts,
    adoption_rules,
    ranges_facts,
    ranges_rules,
)
from itembank.checks.releaserules import release_facts, release_rules
from itembank.checks.statsrules import statistics_facts, statistics_rules
from itembank.checks.structure import structural_findings
from itembank.core.errors import InvalidIdError
from itembank.core.findings import Finding, error, pointer, warning
from itembank.core.layout import CONTENT_KINDS, Location, locate
from itembank.core.parsing import parse_record
from itembank.core.schemas import is_valid
from itembank.core.workflow import content_hash

Facts = dict[str, Any]


@dataclass
class FileResult:
    """What one file contributes to a validation: its own findings and its facts."""

    findings: list[Finding] = field(default_factory=list)
    facts: Facts | None = None


def analyse_file(relpath: str, data: bytes, matcher: TermMatcher) -> FileResult:
    """Check one bank file on its own. Never raises for bad content."""
    try:
        loc = locate(relpath)
    except InvalidIdError as exc:
        return FileResult(
            [
                error(
                    relpath,
                    "",
                    "bad-file-name",
                    f"The file name is not a valid id: {exc}. Rename the file to its record's id.",
                )
            ]
        )
    if loc is None:
        return FileResult(
            [
                warning(
                    relpath,
                    "",
                    "unknown-file",
                    "This file is not part of a bank's layout and was not checked. "
                    "Move or delete it.",
                )
            ]
        )
    record, findings = parse_record(relpath, data)
    if record is None:
        return FileResult(findings, {"kind": loc.kind, "file_id": loc.id, "valid": False})
    valid = is_valid(loc.kind, record)  # the usual case, without building any message
    result = FileResult([] if valid else structural_findings(relpath, loc.kind, record))
    valid = not result.findings
    declared = record.get("id") if isinstance(record, dict) else None
    if loc.id and isinstance(declared, str) and declared != loc.id:
        result.findings.append(
            error(
                relpath,
                "/id",
                "id-mismatch",
                f"The id {declared!r} differs from the file name {loc.id!r}. Ids are permanent: "
                f"rename the file to {declared}.json, or set id to {loc.id!r}.",
            )
        )
    if loc.parent and isinstance(record, dict):
        field_name = {
            "review": "target",
            "blind_answer": "target",
            "statistics": "administration",
        }.get(loc.kind, "exercise")
        if record.get(field_name) != loc.parent:
            result.findings.append(
                error(
                    relpath,
                    pointer(field_name),
                    "wrong-folder",
                    f"{field_name} is {record.get(field_name)!r} but the file is in the folder for "
                    f"{loc.parent!r}. Move the file or correct {field_name}.",
                )
            )
    facts: Facts = {
        "kind": loc.kind,
        "file_id": loc.id,
        "valid": valid,
        "id": declared if isinstance(declared, str) else None,
    }
    if valid:
        rule = LOCAL_RULES.get(loc.kind)
        if rule:
            result.findings.extend(rule(relpath, record))
        facts.update(FACTS[loc.kind](record))
        if loc.kind in CONTENT_KINDS and may_flag(matcher, data):
            result.findings.extend(term_findings(relpath, record, matcher))
    result.facts = facts
    return result


def unreadable_file(relpath: str, code: str, message: str) -> FileResult:
    """The result for a file that was not read (not a regular file, or too large): one error
    at the file, and facts that say it exists but is unusable, as for an unparsable file."""
    try:
        loc = locate(relpath)
    except InvalidIdError:
        loc = None
    facts = None if loc is None else {"kind": loc.kind, "file_id": loc.id, "valid": False}
    return FileResult([error(relpath, "", code, message)], facts)


# ---- local rules: one record at a time -------------------------------------------------------


def _duplicates(values: list[Any]) -> list[Any]:
    if len(set(values)) == len(values):  # the usual case, without counting
        return []
    return [v for v, n in Counter(values).items() if n > 1]


def item_rules(path: str, item: dict[str, Any]) -> Iterator[Finding]:
    """The key names existing options; key counts fit the format; options are distinct."""
    option_ids = [o["id"] for o in item["options"]]
    for dup in _duplicates(option_ids):
        index = len(option_ids) - 1 - option_ids[::-1].index(dup)
        yield error(
            path,
            pointer("options", index, "id"),
            "duplicate-option-id",
            f"Two options are labelled {dup}. Give each option its own letter.",
        )
    key = item["key"]
    fmt = item["format"]
    keyed = list(key) if isinstance(key, dict) else key
    for index, option in enumerate(keyed):
        if option not in option_ids:
            where = pointer("key", option) if isinstance(key, dict) else pointer("key", index)
            yield error(
                path,
                where,
                "key-unknown-option",
                f"The key names option {option}, which does not exist. Options are "
                f"{', '.join(option_ids)}: correct the key or add the option.",
            )
    if fmt == "multiple_true_false" and isinstance(key, dict):
        missing = [o for o in option_ids if o not in key]
        if missing:
            yield error(
                path,
                "/key",
                "key-incomplete",
                f"Statements {', '.join(missing)} have no answer in the key. Give every "
                "statement true or false.",
            )
    if fmt == "multiple_response":
        count = item.get("select_count")
        if count != len(key):
            yield error(
                path,
                "/select_count",
                "key-count",
                f"Candidates are asked to choose {count} but the key has {len(key)} "
                "options. Make them equal.",
            )
        if len(key) >= len(option_ids):
            yield error(
                path,
                "/key",
                "key-count",
                "Every option is a key: add distractors or use another format.",
            )
    texts = [o["text"].strip().lower() for o in item["options"]]
    for dup in _duplicates(texts):
        yield warning(
            path,
            pointer("options", texts.index(dup), "text"),
            "duplicate-option-text",
            "Two options have the same text. Reword one.",
        )
    # one primary per framework: an item for two roles has a main statement in each role's
    # framework (and may have one in each version of a framework)
    primaries = [m["framework"] for m in item["standards"] if m.get("primary")]
    if len(primaries) < 2:  # the usual case, without counting
        return
    for fw, n in sorted(Counter(primaries).items()):
        if n > 1:
            yield warning(
                path,
                "/standards",
                "primary-count",
                f"{n} statements of {fw} are marked primary. Mark only the main one.",
            )


def scenario_rules(path: str, scenario: dict[str, Any]) -> Iterator[Finding]:
    """Exercises, reflective/written tasks and marking criteria refer to each other correctly."""
    exercise_ids = [e["id"] for e in scenario["exercises"]]
    for dup in _duplicates(exercise_ids):
        yield error(path, "/exercises", "duplicate-id", f"Two exercises are {dup}. Renumber.")
    for part in ("reflective", "written"):
        ex = scenario[part]["exercise"]
        if ex not in exercise_ids:
            yield error(
                path,
                pointer(part, "exercise"),
                "unknown-exercise",
                f"The {part} task refers to exercise {ex}, which does not exist "
                f"(exercises: {', '.join(exercise_ids)}).",
            )
    missing = [
        k for k in ("mixed_evidence", "second_marking") if k not in scenario["marking_scheme"]
    ]
    if missing:
        yield warning(
            path,
            "/marking_scheme",
            "marking-guidance-missing",
            f"The marking scheme has no {' and no '.join(missing)}: say how assessors score "
            "evidence that spans bands or parts, and which work a second assessor marks and how "
            "disagreements are settled, so that two assessors reach the same result.",
        )
    criteria = scenario["marking_scheme"]["criteria"]
    for dup in _duplicates([c["id"] for c in criteria]):
        yield error(
            path,
            "/marking_scheme/criteria",
            "duplicate-id",
            f"Two marking criteria are {dup}. Renumber them.",
        )
    for ci, criterion in enumerate(criteria):
        for ai, part in enumerate(criterion["applies_to"]):
            if part.startswith("E") and part not in exercise_ids:
                yield error(
                    path,
                    pointer("marking_scheme", "criteria", ci, "applies_to", ai),
                    "unknown-exercise",
                    f"Criterion {criterion['id']} is marked on "
                    f"exercise {part}, which does not exist.",
                )
        scores = [b["score"] for b in criterion["bands"]]
        if _duplicates(scores):
            yield error(
                path,
                pointer("marking_scheme", "criteria", ci, "bands"),
                "duplicate-band",
                f"Criterion {criterion['id']} has two bands with the "
                "same score. Give each band its own score.",
            )


def references_rules(path: str, catalogue: dict[str, Any]) -> Iterator[Finding]:
    """Reference ids are unique and 'superseded_by' names entries of the catalogue."""
    refs = catalogue["references"]
    ids = [r["id"] for r in refs]
    for dup in _duplicates(ids):
        yield error(
            path,
            pointer("references", ids.index(dup), "id"),
            "duplicate-id",
            f"The reference id {dup!r} is used twice. Ids must be unique.",
        )
    for ri, ref in enumerate(refs):
        for si, other in enumerate(ref.get("superseded_by", [])):
            if other not in ids:
                yield error(
                    path,
                    pointer("references", ri, "superseded_by", si),
                    "unknown-reference",
                    f"{ref['id']} is superseded by {other!r}, "
                    "which is not in the catalogue. Add it or correct the id.",
                )
        for ci, provision in enumerate(ref.get("commencement", [])):
            for ai, other in enumerate(provision.get("affects", [])):
                if other not in ids:
                    yield error(
                        path,
                        pointer("references", ri, "commencement", ci, "affects", ai),
                        "unknown-reference",
                        f"{ref['id']} ({provision['provision']}) affects {other!r}, "
                        "which is not in the catalogue. Add it or correct the id.",
                    )
        reviewed = catalogue.get("reviewed_on")
        if reviewed and status_on(ref, reviewed) != ref["status"]:
            yield warning(
                path,
                pointer("references", ri, "status"),
                "status-disagrees-with-dates",
                f"{ref['id']} is recorded as {ref['status']}, but its dates make it "
                f"{status_on(ref, reviewed)} on {reviewed} (reviewed_on). Correct the status "
                "or the dates.",
            )
        if ref.get("flag_terms") and ref["status"] == "current":
            yield warning(
                path,
                pointer("references", ri, "flag_terms"),
                "flag-terms-unused",
                f"{ref['id']} is current, so its flag terms are never used.",
            )


def framework_rules(path: str, framework: dict[str, Any]) -> Iterator[Finding]:
    """Statement ids and numbers are unique within a framework."""
    for field_name in ("id", "number"):
        values = [s[field_name] for s in framework["statements"]]
        for dup in _duplicates(values):
            yield error(
                path,
                pointer("statements", values.index(dup), field_name),
                "duplicate-id",
                f"Two statements have {field_name} {dup}.",
            )


def bank_rules(path: str, bank: dict[str, Any]) -> Iterator[Finding]:
    """Role and panel ids are unique."""
    for list_name in ("roles", "panels"):
        values = [r["id"] for r in bank[list_name]]
        for dup in _duplicates(values):
            yield error(
                path,
                pointer(list_name, values.index(dup), "id"),
                "duplicate-id",
                f"Two {list_name} have the id {dup!r}.",
            )
    roles = {r["id"] for r in bank["roles"]}
    for pi, panel in enumerate(bank["panels"]):
        for ri, role in enumerate(panel.get("roles", [])):
            if role not in roles:
                yield error(
                    path,
                    pointer("panels", pi, "roles", ri),
                    "unknown-role",
                    f"Panel {panel['id']} reviews role {role!r}, which is not among the roles "
                    f"above ({', '.join(sorted(roles))}).",
                )


def blueprint_rules(path: str, blueprint: dict[str, Any]) -> Iterator[Finding]:
    """Bounds are consistent and applied sections say how many cases they take."""
    for si, section in enumerate(blueprint["sections"]):
        if section["section"] == "applied" and "stimuli" not in section:
            yield error(
                path,
                pointer("sections", si, "stimuli"),
                "missing-field",
                "An applied section must say how many cases (stimuli) it takes.",
            )
    for list_name in ("standards", "formats"):
        for bi, bound in enumerate(blueprint.get(list_name, [])):
            if "max" in bound and bound["max"] < bound["min"]:
                yield error(
                    path,
                    pointer(list_name, bi, "max"),
                    "bad-bounds",
                    f"max ({bound['max']}) is less than min ({bound['min']}).",
                )
    total = sum(s["items"] for s in blueprint["sections"])
    for list_name in ("standards", "formats"):
        mins = sum(b["min"] for b in blueprint.get(list_name, []))
        if list_name == "formats" and mins > total:
            yield error(
                path,
                "/formats",
                "bad-bounds",
                f"The format minimums add up to {mins}, more than the {total} items.",
            )


LOCAL_RULES: dict[str, Callable[[str, dict[str, Any]], Iterator[Finding]]] = {
    "item": item_rules,
    "scenario": scenario_rules,
    "learning_point": learning_point_rules,
    "references": references_rules,
    "framework": framework_rules,
    "bank": bank_rules,
    "blueprint": blueprint_rules,
    "statistics": statistics_rules,
    "ranges": ranges_rules,
    "adoption": adoption_rules,
    "release": release_rules,
}


# ---- facts: what the bank-wide rules need to know of each record ------------------------------


def _mappings(standards: list[dict[str, Any]]) -> list[list[str]]:
    return [[m["framework"], m["statement"]] for m in standards]


def _marked(standards: list[dict[str, Any]]) -> list[bool]:
    """Which mappings are marked primary (the bank rules and coverage pick each framework's)."""
    return [bool(m.get("primary")) for m in standards]


def _item_facts(r: dict[str, Any]) -> Facts:
    return {
        "status": r["status"],
        "author": r["author"],
        "refs": r["references"],
        "std": _mappings(r["standards"]),
        "std_primary": _marked(r["standards"]),
        "stim": r.get("stimulus"),
        "enemies": r["enemies"],
        "roles": r["roles"],
        "section": r["section"],
        "format": r["format"],
        "hash": content_hash("item", r),
        "difficulty": r["difficulty_estimate"],
        "max_score": r["scoring"]["max_score"],
    }


def _stimulus_facts(r: dict[str, Any]) -> Facts:
    return {
        "status": r["status"],
        "author": r["author"],
        "refs": r.get("references", []),
        "std": _mappings(r["standards"]),
        "std_primary": _marked(r["standards"]),
        "items": r["items"],
        "roles": r["roles"],
        "hash": content_hash("stimulus", r),
    }


def _scenario_facts(r: dict[str, Any]) -> Facts:
    std = _mappings(r["standards"])
    criteria = r["marking_scheme"]["criteria"]
    marking = [m for c in criteria for m in _mappings(c["standards"])]
    where = [
        pointer("marking_scheme", "criteria", ci, "standards", mi)
        for ci, c in enumerate(criteria)
        for mi in range(len(c["standards"]))
    ]
    return {
        "status": r["status"],
        "author": r["author"],
        "refs": r.get("references", []),
        "std": std,
        "std_primary": _marked(r["standards"]),
        "marking_std": marking,
        "marking_where": where,
        "roles": [r["role"]],
        "hash": content_hash("scenario", r),
    }


def _review_facts(r: dict[str, Any]) -> Facts:
    noes = sorted(c for c, v in r["ratings"].items() if v["rating"] == "no")
    return {
        "target": r["target"],
        "hash": r["content_hash"],
        "reviewer": r["reviewer"],
        "decision": r["decision"],
        "submitted": r["submitted"],
        "noes": noes,
        "blind_match": r.get("blind_match"),
        "has_comment": bool(r["comment"].strip()),
        "panel": r.get("panel"),
    }


FACTS: dict[str, Callable[[dict[str, Any]], Facts]] = {
    "item": _item_facts,
    "stimulus": _stimulus_facts,
    "scenario": _scenario_facts,
    "learning_point": learning_point_facts,
    "review": _review_facts,
    "blind_answer": lambda r: {
        "target": r["target"],
        "hash": r["content_hash"],
        "reviewer": r["reviewer"],
    },
    "framework": lambda r: {
        "role": r["role"],
        "statements": [s["id"] for s in r["statements"]],
        "titles": {s["id"]: s["title"] for s in r["statements"]},
        "assessed": r.get("assessed", True),
        "status": r["status"],
        "crosswalk": r.get("crosswalk"),
    },
    "references": lambda r: {"references": r["references"]},
    "bank": lambda r: {
        "roles": [x["id"] for x in r["roles"]],
        "frameworks": r["frameworks"],
        "policy": r["review_policy"],
        "panels": {p["id"]: {"kind": p["kind"], "members": p["members"]} for p in r["panels"]},
    },
    "exercise": lambda r: {
        "items": r["items"],
        "panels": r["panels"],
        "facilitator": r["facilitator"],
    },
    "rating": lambda r: {
        "exercise": r["exercise"],
        "panel": r["panel"],
        "judge": r["judge"],
        "round": r["round"],
        "items": [x["item"] for x in r["ratings"]],
    },
    "blueprint": lambda r: {"role": r["role"], "record": r},
    "form": lambda r: {
        "blueprint": r["blueprint"],
        "items": [i["id"] for s in r["sections"] for i in s["items"]],
        "hashes": [[i["id"], i["content_hash"]] for s in r["sections"] for i in s["items"]],
    },
    "statistics": statistics_facts,
    "ranges": ranges_facts,
    "adoption": adoption_facts,
    "release": release_facts,
}

__all__ = ["FileResult", "Location", "analyse_file"]
