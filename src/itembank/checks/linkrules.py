"""Bank-wide rules on the links between records: one id per record, and every standard, role,
reference, case, enemy, blueprint entry and crosswalk names something that exists (and cases
and their questions, and enemies, point at each other)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from itembank.checks.bankindex import BankIndex
from itembank.core.findings import Finding, error, pointer, warning
from itembank.core.layout import CONTENT_KINDS


def unique_ids(index: BankIndex) -> Iterator[Finding]:
    """One id, one file: across items, stimuli and scenarios (ids share one namespace)."""
    owners: dict[str, list[str]] = defaultdict(list)
    for path, f in index.facts.items():
        if f["kind"] in CONTENT_KINDS and f.get("id"):
            owners[f["id"]].append(path)
    for ident, paths in owners.items():
        if len(paths) > 1:
            first, *others = sorted(paths)
            for path in others:
                yield error(
                    path,
                    "/id",
                    "duplicate-id",
                    f"The id {ident} is already used by {first}. Give this record the "
                    "next free id and rename its file to match.",
                )


def content_links(index: BankIndex) -> Iterator[Finding]:
    """Standards, roles, references, the case and the enemies a content record names exist."""
    roles = set(index.settings["roles"]) if index.settings else None
    frameworks = set(index.settings["frameworks"]) if index.settings else set()
    refs = {r["id"] for r in index.reference_entries}
    items = index.ids("item")
    statements = index.statements
    for path, f in index.content_facts:
        if any(
            fw not in statements
            or st not in statements[fw]
            or (frameworks and fw not in frameworks)
            for fw, st in f["std"]
        ):
            yield from _standard_links(index, path, "/standards", f["std"], frameworks)
        if f["kind"] == "scenario":
            yield from _standard_links(index, path, "/marking_scheme", f["marking_std"], frameworks)
        if roles is not None:
            for i, role in enumerate(f["roles"]):
                if role not in roles:
                    where = "/role" if f["kind"] == "scenario" else pointer("roles", i)
                    yield error(
                        path,
                        where,
                        "unknown-role",
                        f"The role {role!r} is not declared in bank.json (roles: "
                        f"{', '.join(sorted(roles))}).",
                    )
        for i, ref in enumerate(f["refs"]):
            if ref not in refs and index.reference_entries:
                yield error(
                    path,
                    pointer("references", i),
                    "unknown-reference",
                    f"The reference {ref!r} is not in references.json. Add it to the "
                    "catalogue or correct the id.",
                )
        if f["kind"] != "item":
            continue
        if f["stim"] and f["stim"] not in index.ids("stimulus"):
            yield error(
                path,
                "/stimulus",
                "unknown-stimulus",
                f"The case stimulus {f['stim']} does not exist (stimuli/{f['stim']}.json)."
                " Correct the id or write the stimulus.",
            )
        for i, enemy in enumerate(f["enemies"]):
            if enemy == f["id"]:
                yield error(
                    path,
                    pointer("enemies", i),
                    "self-enemy",
                    "An item cannot be its own enemy. Remove it from the list.",
                )
            elif enemy not in items:
                yield error(
                    path,
                    pointer("enemies", i),
                    "unknown-enemy",
                    f"The enemy {enemy} is not an item in this bank. Correct the id.",
                )
            else:
                other = index.facts[items[enemy]]
                if other["valid"] and f["id"] not in other["enemies"]:
                    yield error(
                        path,
                        pointer("enemies", i),
                        "enemy-not-symmetric",
                        f"{f['id']} lists {enemy} as an enemy, but {enemy} does not list "
                        f"{f['id']}. Add {f['id']} to the enemies of {enemy}.",
                    )


def _standard_links(
    index: BankIndex, path: str, base: str, mappings: list[list[str]], frameworks: set[str]
) -> Iterator[Finding]:
    for i, (fw, statement) in enumerate(mappings):
        where = f"{base}/{i}" if base == "/standards" else base
        if fw not in index.statements:
            yield error(
                path,
                where + "/framework" if base == "/standards" else where,
                "unknown-standard",
                f"The framework {fw!r} does not exist in standards/. Use one of: "
                f"{', '.join(sorted(index.statements)) or 'none yet'}.",
            )
        elif statement not in index.statements[fw]:
            yield error(
                path,
                where + "/statement" if base == "/standards" else where,
                "unknown-standard",
                f"The framework {fw} has no statement {statement!r}. Its statements "
                f"are {', '.join(sorted(index.statements[fw]))}.",
            )
        elif frameworks and fw not in frameworks:
            yield warning(
                path,
                where,
                "framework-not-in-use",
                f"{fw} is not listed among the frameworks in bank.json.",
            )


def stimulus_sets(index: BankIndex) -> Iterator[Finding]:
    """A case and its questions point at each other."""
    items = index.ids("item")
    for path, f in index.valid_of("stimulus", "item"):
        if f["kind"] == "stimulus":
            for i, item_id in enumerate(f["items"]):
                item_path = items.get(item_id)
                if item_path is None:
                    yield error(
                        path,
                        pointer("items", i),
                        "unknown-item",
                        f"The case lists {item_id}, which is not an item in this bank.",
                    )
                    continue
                item = index.facts[item_path]
                if item["valid"] and item["stim"] != f["id"]:
                    yield error(
                        path,
                        pointer("items", i),
                        "stimulus-item-mismatch",
                        f"The case lists {item_id}, but {item_id} belongs to "
                        f"{item['stim'] or 'no case'}. Make them agree.",
                    )
        elif f["stim"]:
            stim_path = index.ids("stimulus").get(f["stim"])
            stim = index.facts.get(stim_path or "")
            if stim and stim["valid"] and f["id"] not in stim["items"]:
                yield error(
                    path,
                    "/stimulus",
                    "stimulus-item-mismatch",
                    f"The item belongs to {f['stim']}, but that case does not list it. "
                    f"Add {f['id']} to the items of {f['stim']}.",
                )


def blueprint_links(index: BankIndex) -> Iterator[Finding]:
    """A blueprint's role, standards and included or excluded content, and a form's items, exist."""
    roles = set(index.settings["roles"]) if index.settings else None
    for path, f in index.valid_of("blueprint", "form"):
        if f["kind"] == "blueprint":
            bp = f["record"]
            if roles is not None and bp["role"] not in roles:
                yield error(
                    path,
                    "/role",
                    "unknown-role",
                    f"The role {bp['role']!r} is not declared in bank.json.",
                )
            for i, bound in enumerate(bp.get("standards", [])):
                fw, statement = bound["framework"], bound["statement"]
                if statement not in index.statements.get(fw, set()):
                    yield error(
                        path,
                        pointer("standards", i),
                        "unknown-standard",
                        f"{fw} {statement} is not a statement of a framework in standards/.",
                    )
            for list_name in ("include", "exclude"):
                for i, ident in enumerate(bp.get(list_name, [])):
                    if index.content(ident) is None:
                        yield error(
                            path,
                            pointer(list_name, i),
                            "unknown-item",
                            f"{ident} is not in this bank.",
                        )
        elif f["kind"] == "form" and f["valid"]:
            for ident in f["items"]:
                if ident not in index.ids("item"):
                    yield error(
                        path,
                        "/sections",
                        "unknown-item",
                        f"The form lists {ident}, which is not in this bank.",
                    )


def framework_links(index: BankIndex) -> Iterator[Finding]:
    """A framework's role is declared and its crosswalk maps statements that exist."""
    roles = set(index.settings["roles"]) if index.settings else None
    for path, f in index.valid_of("framework"):
        if roles is not None and f["role"] not in roles:
            yield error(
                path,
                "/role",
                "unknown-role",
                f"The role {f['role']!r} is not declared in bank.json.",
            )
        crosswalk = f.get("crosswalk")
        if not crosswalk:
            continue
        target = index.statements.get(crosswalk["to"])
        if target is None:
            yield error(
                path,
                "/crosswalk/to",
                "unknown-framework",
                f"The crosswalk maps to {crosswalk['to']!r}, which is not in standards/.",
            )
            continue
        for mi, mapping in enumerate(crosswalk["mappings"]):
            if mapping["from"] not in f["statements"]:
                yield error(
                    path,
                    pointer("crosswalk", "mappings", mi, "from"),
                    "unknown-standard",
                    f"{mapping['from']} is not a statement here.",
                )
            for ti, statement in enumerate(mapping["to"]):
                if statement not in target:
                    yield error(
                        path,
                        pointer("crosswalk", "mappings", mi, "to", ti),
                        "unknown-standard",
                        f"{statement} is not a statement of {crosswalk['to']}.",
                    )
