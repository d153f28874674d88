"""Rules over the whole bank, computed from every file's facts: ``check_bank`` is the one entry
point. The rules live by family (links between records in linkrules, the panels' records and
workflow in panelrules); the catalogue's presence and citations of superseded law stay here.
The order of the rules below is the order of the findings."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

from itembank.checks.bankindex import BankIndex, Facts
from itembank.checks.currency import build_matcher, citation_findings
from itembank.checks.linkrules import (
    blueprint_links,
    content_links,
    framework_links,
    stimulus_sets,
    unique_ids,
)
from itembank.checks.panelrules import (
    blind_answers,
    review_links,
    standard_setting_links,
    workflow_states,
)
from itembank.checks.passmarkrules import passmark_links
from itembank.checks.releaserules import release_links
from itembank.checks.standardrules import standard_roles
from itembank.checks.statsrules import statistics_links
from itembank.core.findings import Finding, error, pointer


def check_bank(facts: Mapping[str, Facts | None]) -> list[Finding]:
    """Every bank-wide finding, by rule, then by the file it is about."""
    return [f for _, f in check_bank_numbered(facts)]


def check_bank_numbered(facts: Mapping[str, Facts | None]) -> list[tuple[int, Finding]]:
    """Every bank-wide finding with the number of the rule that made it, ordered by rule and
    then by path (stably): the order an incremental run can rebuild from per-path parts."""
    index = BankIndex.build(facts)
    out = [(number, f) for number, rule in enumerate(RULES) for f in rule(index)]
    return sorted(out, key=lambda pair: (pair[0], pair[1].path))


def required_files(index: BankIndex) -> Iterator[Finding]:
    """The reference catalogue exists and every framework bank.json names has its file."""
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


def citations(index: BankIndex) -> Iterator[Finding]:
    """Content citing a withdrawn or superseded entry of the catalogue (see currency)."""
    if not index.reference_entries:
        return
    matcher = build_matcher(index.reference_entries)
    # only a citation of an entry that is not current is a finding (see citation_findings)
    flagged = {i for i, r in matcher.by_id.items() if r.get("status") != "current"}
    for path, f in index.content_facts:
        if not flagged.isdisjoint(f["refs"]):
            yield from citation_findings(path, f["refs"], matcher)


#: The rules in the order of their findings.
RULES: tuple[Callable[[BankIndex], Iterable[Finding]], ...] = (
    required_files,
    unique_ids,
    content_links,
    standard_roles,
    stimulus_sets,
    review_links,
    blind_answers,
    workflow_states,
    standard_setting_links,
    passmark_links,
    blueprint_links,
    framework_links,
    statistics_links,
    release_links,
    citations,
)
