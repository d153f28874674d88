"""Rules over the whole bank, computed from every file's facts: ids unique, references resolve,
enemies symmetric, case sets consistent, workflow states backed by the reviews."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from itembank.checks.currency import build_matcher, citation_findings
from itembank.core.findings import Finding, error, pointer, warning
from itembank.core.layout import CONTENT_KINDS
from itembank.core.workflow import verdict_for

Facts = dict[str, Any]


@dataclass
class BankIndex:
    """The facts of a bank, arranged for look-up."""

    facts: dict[str, Facts]  # relpath -> facts
    by_kind: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> id -> relpath
    settings: Facts | None = None
    statements: dict[str, set[str]] = field(default_factory=dict)
    reference_entries: list[dict[str, Any]] = field(default_factory=list)
    reviews: dict[str, list[tuple[str, Facts]]] = field(default_factory=dict)
    blind: list[tuple[str, Facts]] = field(default_factory=list)  # blind answers, path order

    @classmethod
    def build(cls, facts: Mapping[str, Facts | None]) -> BankIndex:
        index = cls({p: f for p, f in facts.items() if f is not None})
        by_kind: dict[str, dict[str, str]] = defaultdict(dict)
        reviews: dict[str, list[tuple[str, Facts]]] = defaultdict(list)
        for path in sorted(index.facts):
            f = index.facts[path]
            key = f.get("id") or f.get("file_id")
            if key:
                by_kind[f["kind"]].setdefault(key, path)
            if f["kind"] == "bank" and f["valid"]:
                index.settings = f
            elif f["kind"] == "framework" and f["valid"]:
                index.statements[f["file_id"]] = set(f["statements"])
            elif f["kind"] == "references" and f["valid"]:
                index.reference_entries = f["references"]
            elif f["kind"] == "review" and f["valid"]:
                reviews[f["target"]].append((path, f))
            elif f["kind"] == "blind_answer" and f["valid"]:
                index.blind.append((path, f))
        index.by_kind = dict(by_kind)
        index.reviews = dict(reviews)
        return index

    def ids(self, kind: str) -> dict[str, str]:
        return self.by_kind.get(kind, {})

    def content(self, ident: str) -> tuple[str, Facts] | None:
        for kind in CONTENT_KINDS:
            path = self.ids(kind).get(ident)
            if path:
                return path, self.facts[path]
        return None


def check_bank(facts: Mapping[str, Facts | None]) -> list[Finding]:
    """Every bank-wide finding."""
    index = BankIndex.build(facts)
    out: list[Finding] = []
    for rule in (
        _required_files,
        _unique_ids,
        _content_links,
        _stimulus_sets,
        _review_links,
        _blind_answers,
        _workflow_states,
        _standard_setting_links,
        _blueprint_links,
        _framework_links,
        _citations,
    ):
        out.extend(rule(index))
    return out


def _required_files(index: BankIndex) -> Iterator[Finding]:
    if "references.json" not in index.facts:
        yield error(
            "references.json",
            "",
            "missing-file",
            "The bank has no reference catalogue. Create references.json "
            "(see schemas/references.schema.json).",
        )
    if index.settings:
        for i, fw in enumerate(index.settings["frameworks"]):
            if fw not in index.ids("framework"):
                yield error(
                    "bank.json",
                    pointer("frameworks", i),
                    "unknown-framework",
                    f"The framework {fw!r} has no file standards/{fw}.json. Add it or "
                    "remove it from the list.",
                )


def _unique_ids(index: BankIndex) -> Iterator[Finding]:
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


def _content_links(index: BankIndex) -> Iterator[Finding]:
    roles = set(index.settings["roles"]) if index.settings else None
    frameworks = set(index.settings["frameworks"]) if index.settings else set()
    refs = {r["id"] for r in index.reference_entries}
    items = index.ids("item")
    for path, f in sorted(index.facts.items()):
        if f["kind"] not in CONTENT_KINDS or not f["valid"]:
            continue
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
            if index.reference_entries and ref not in refs:
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


def _stimulus_sets(index: BankIndex) -> Iterator[Finding]:
    """A case and its questions point at each other."""
    items = index.ids("item")
    for path, f in sorted(index.facts.items()):
        if f["kind"] == "stimulus" and f["valid"]:
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
        elif f["kind"] == "item" and f["valid"] and f["stim"]:
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


def _review_links(index: BankIndex) -> Iterator[Finding]:
    panels = index.settings["panels"] if index.settings else {}
    reviewers = {m.lower() for p in panels.values() if p["kind"] == "review" for m in p["members"]}
    for target, reviews in sorted(index.reviews.items()):
        found = index.content(target)
        for path, review in reviews:
            if found is None:
                yield error(
                    path,
                    "/target",
                    "unknown-target",
                    f"This review is of {target}, which is not in the bank.",
                )
                continue
            if panels and review["reviewer"].lower() not in reviewers:
                yield warning(
                    path,
                    "/reviewer",
                    "reviewer-not-on-panel",
                    f"{review['reviewer']} is not a member of any review panel in bank.json.",
                )


def _blind_answers(index: BankIndex) -> Iterator[Finding]:
    """One blind answer per reviewer per item version (the first one counts), of a real item."""
    first: dict[tuple[str, str, str], str] = {}
    for path, f in index.blind:  # ids start with the UTC time, so path order is time order
        if index.content(f["target"]) is None:
            yield error(
                path,
                "/target",
                "unknown-target",
                f"This blind answer is to {f['target']}, which is not in the bank.",
            )
            continue
        who = f["reviewer"].rsplit("<", 1)[-1].rstrip(">").strip().lower()
        earlier = first.setdefault((f["target"], f["hash"], who), path)
        if earlier != path:
            yield error(
                path,
                "",
                "duplicate-blind-answer",
                f"{f['reviewer']} already answered this version of {f['target']} blind "
                f"({earlier}); only the first answer counts. Remove this file.",
            )


def _workflow_states(index: BankIndex) -> Iterator[Finding]:
    """A record's status must be backed by its reviews under the bank's policy."""
    policy: dict[str, Any] = index.settings["policy"] if index.settings else {}
    for path, f in sorted(index.facts.items()):
        if f["kind"] not in CONTENT_KINDS or not f["valid"]:
            continue
        reviews = [(r["file_id"], r) for _, r in index.reviews.get(f["id"] or "", [])]
        verdict = verdict_for(f["author"], f["hash"], reviews, policy)
        for review_id in verdict.self_reviews:
            yield error(
                f"reviews/{f['id']}/{review_id}.json",
                "/reviewer",
                "self-review",
                f"{f['author']} reviewed their own {f['kind']}. Reviewers never review "
                "their own content: remove this review.",
            )
        status, needed = f["status"], int(policy.get("approvals_required", 2))
        if status == "approved" and not verdict.approved:
            have = len(verdict.current_approvals)
            if verdict.stale_approvals and have < needed:
                yield error(
                    path,
                    "/status",
                    "approval-stale",
                    f"Marked approved, but {len(verdict.stale_approvals)} approval(s) "
                    f"({', '.join(verdict.stale_approvals)}) were given to older "
                    f"content, and the current content has {have} of {needed}. The "
                    "content changed after approval: set status to in_review.",
                )
            else:
                why = (
                    f"has {have} of {needed} approvals of the current content"
                    if have < needed
                    else "has an unresolved concern: "
                    + "; ".join(verdict.blocking + verdict.unexplained_mismatches)
                )
                yield error(
                    path,
                    "/status",
                    "not-approved",
                    f"Marked approved, but it {why}. Set status to in_review until the "
                    "review policy is met.",
                )
        elif status in ("changes_requested", "rejected"):
            decision = "request_changes" if status == "changes_requested" else "reject"
            if not any(r["decision"] == decision for _, r in reviews):
                yield error(
                    path,
                    "/status",
                    "workflow-state",
                    f"Status is {status}, but no review made that decision. Set the "
                    "status from the reviews (usually in_review).",
                )
        elif status == "retired" and not any(r["decision"] == "approve" for _, r in reviews):
            yield warning(
                path,
                "/status",
                "workflow-state",
                "Retired, but it was never approved. Rejected or draft content is "
                "not retired: use the status that fits.",
            )


def _standard_setting_links(index: BankIndex) -> Iterator[Finding]:
    panels = index.settings["panels"] if index.settings else {}
    exercises = index.ids("exercise")
    for path, f in sorted(index.facts.items()):
        if not f["valid"]:
            continue
        if f["kind"] == "exercise":
            for i, item in enumerate(f["items"]):
                if item not in index.ids("item"):
                    yield error(
                        path,
                        pointer("items", i),
                        "unknown-item",
                        f"{item} is not an item in this bank.",
                    )
            for i, panel in enumerate(f["panels"]):
                if panels and panels.get(panel, {}).get("kind") != "standard_setting":
                    yield error(
                        path,
                        pointer("panels", i),
                        "unknown-panel",
                        f"{panel!r} is not a standard-setting panel in bank.json.",
                    )
        elif f["kind"] == "rating":
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
            if exercise["valid"]:
                if f["panel"] not in exercise["panels"]:
                    yield error(
                        path,
                        "/panel",
                        "unknown-panel",
                        f"The panel {f['panel']!r} does not take part in this exercise.",
                    )
                for i, item in enumerate(f["items"]):
                    if item not in exercise["items"]:
                        yield error(
                            path,
                            pointer("ratings", i, "item"),
                            "unknown-item",
                            f"{item} is not one of the exercise's items.",
                        )
            members = {m.lower() for m in panels.get(f["panel"], {}).get("members", [])}
            if panels and f["judge"].lower() not in members:
                yield error(
                    path,
                    "/judge",
                    "judge-not-on-panel",
                    f"{f['judge']} is not a member of panel {f['panel']}.",
                )


def _blueprint_links(index: BankIndex) -> Iterator[Finding]:
    roles = set(index.settings["roles"]) if index.settings else None
    for path, f in sorted(index.facts.items()):
        if f["kind"] == "blueprint" and f["valid"]:
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


def _framework_links(index: BankIndex) -> Iterator[Finding]:
    roles = set(index.settings["roles"]) if index.settings else None
    for path, f in sorted(index.facts.items()):
        if f["kind"] != "framework" or not f["valid"]:
            continue
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


def _citations(index: BankIndex) -> Iterator[Finding]:
    if not index.reference_entries:
        return
    matcher = build_matcher(index.reference_entries)
    for path, f in sorted(index.facts.items()):
        if f["kind"] in CONTENT_KINDS and f["valid"]:
            yield from citation_findings(path, f["refs"], matcher)
