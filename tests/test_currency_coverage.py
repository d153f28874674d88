"""Currency matching and coverage counting."""

from __future__ import annotations

from itembank.checks.coverage import blueprint_capacity, coverage
from itembank.checks.currency import build_matcher, citation_findings, term_findings

REFS = [
    {"id": "wt-2023", "title": "Working Together 2023", "status": "current"},
    {"id": "wt-2018", "title": "Working Together 2018", "status": "superseded",
     "superseded_on": "2023-12-15", "superseded_by": ["wt-2023"],
     "flag_terms": ["Working Together 2018", "LSCB", "LSCBs"]},
    {"id": "lps", "title": "Liberty Protection Safeguards", "status": "pending",
     "flag_terms": ["LPS"]},
]


def test_terms_match_whole_words_any_case_and_name_the_replacement() -> None:
    m = build_matcher(REFS)
    item = {"stem": "The lscbs met. Working Together 2018 said so.", "tags": ["lscb"],
            "options": [{"text": "HELPS", "rationale": "LPS now apply"}]}
    found = term_findings("items/X.json", item, m)
    assert [(f.pointer, f.code) for f in found] == [
        ("/stem", "superseded-term"), ("/stem", "superseded-term"),
        ("/options/0/rationale", "superseded-term")]
    assert "superseded on 2023-12-15 by Working Together 2023" in found[0].message
    assert "not yet in force" in found[2].message


def test_exemptions_silence_deliberate_terms() -> None:
    m = build_matcher(REFS)
    item = {"stem": "What replaced LSCBs?",
            "currency_exemptions": [{"term": "LSCBs", "reason": "asks what replaced them"}]}
    assert term_findings("items/X.json", item, m) == []


def test_citations() -> None:
    m = build_matcher(REFS)
    found = citation_findings("items/X.json", ["wt-2023", "wt-2018", "lps"], m)
    assert [(f.pointer, f.code) for f in found] == [("/references/1", "cites-superseded"),
                                                    ("/references/2", "cites-pending")]


def _item(i: int, status: str, statement: str, fmt: str = "single_best_answer",
          section: str = "general", stim: str | None = None) -> dict[str, object]:
    return {"kind": "item", "valid": True, "id": f"TS-{i:04d}", "status": status,
            "std": [["fw", statement]], "roles": ["practitioner"], "section": section,
            "format": fmt, "stim": stim}


def test_coverage_counts_and_gaps() -> None:
    facts = {f"i{i}": _item(i, s, st) for i, (s, st) in enumerate(
        [("approved", "S-1"), ("approved", "S-1"), ("draft", "S-1"), ("in_review", "S-2")])}
    fw = {"fw": {"role": "practitioner", "statements": ["S-1", "S-2"],
                 "titles": {"S-1": "One", "S-2": "Two"}, "assessed": True}}
    result = coverage(facts, fw)
    by = {s["statement"]: s for s in result.statements}
    assert (by["S-1"]["approved"], by["S-1"]["draft"]) == (2, 1)
    assert [g["statement"] for g in result.uncovered] == ["S-2"]


def test_blueprint_capacity_is_the_tightest_constraint() -> None:
    facts = {f"i{i}": _item(i, "approved", "S-1" if i < 8 else "S-2") for i in range(10)}
    facts.update({f"a{i}": _item(100 + i, "approved", "S-1", section="applied", stim="CS-0001")
                  for i in range(6)})
    facts["s"] = {"kind": "stimulus", "valid": True, "id": "CS-0001", "status": "approved",
                  "roles": ["practitioner"]}
    bp = {"id": "bp", "role": "practitioner",
          "sections": [{"id": "g", "section": "general", "items": 3},
                       {"id": "a", "section": "applied", "items": 6, "stimuli": 1}],
          "standards": [{"framework": "fw", "statement": "S-2", "min": 1}]}
    fw = {"fw": {"role": "practitioner", "statements": ["S-1", "S-2"], "titles": {},
                 "assessed": True}}
    cap = blueprint_capacity(bp, facts, fw)
    assert cap.forms_upper_bound == 1  # one case of six
    assert {x["constraint"].split(":")[0]: x["forms"] for x in cap.limits} == {
        "section g": 3, "section a": 1, "standard S-2": 2}
