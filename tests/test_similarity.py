"""Near-duplicates: the detector against the labelled pairs (tests/data/duplicates/pairs.json),
its parts against hand-worked values, and what writers and validate are told."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from itembank import Bank, open_bank
from itembank.checks import similarity
from itembank.checks.similarity import (
    DEFAULT_THRESHOLD,
    SimilarityIndex,
    citations,
    duplicate_findings,
    features,
    key_text,
)

from .conftest import git

PAIRS = Path(__file__).parent / "data" / "duplicates" / "pairs.json"
WRITER = "Priya Shah <priya.shah@example.org>"


def labelled() -> tuple[dict[str, dict], list[dict]]:
    data = json.loads(PAIRS.read_text(encoding="utf-8"))
    return data["items"], data["pairs"]


def scored() -> list[tuple[float, bool, str, str]]:
    items, pairs = labelled()
    index = SimilarityIndex(items.values())
    return [
        (index.score(items[p["a"]], items[p["b"]]), p["label"] == "duplicate", p["a"], p["b"])
        for p in pairs
    ]


def test_the_labelled_set_is_what_the_brief_asks_for() -> None:
    items, pairs = labelled()
    labels = [p["label"] for p in pairs]
    assert (len(pairs), labels.count("duplicate"), labels.count("different")) == (52, 19, 33)
    assert all(p["a"] in items and p["b"] in items and p["reason"] for p in pairs)
    named = {(p["a"], p["b"]): p["label"] for p in pairs}
    assert named[("GK-0039", "AK-0043")] == "duplicate"
    assert named[("XP-0001", "XP-0002")] == "duplicate"  # police protection, 72 hours
    assert all(len(o["rationale"]) > 10 for i in items.values() for o in i["options"])


def test_recall_and_precision_on_the_labelled_pairs(capsys: pytest.CaptureFixture[str]) -> None:
    rows = scored()
    tp = sum(s >= DEFAULT_THRESHOLD and dup for s, dup, *_ in rows)
    fp = sum(s >= DEFAULT_THRESHOLD and not dup for s, dup, *_ in rows)
    fn = sum(s < DEFAULT_THRESHOLD and dup for s, dup, *_ in rows)
    tn = len(rows) - tp - fp - fn
    with capsys.disabled():
        print(f"\nnear-duplicates at {DEFAULT_THRESHOLD}: TP {tp} FP {fp} FN {fn} TN {tn}; "
              f"recall {tp / (tp + fn):.3f}, precision {tp / (tp + fp):.3f}")
    assert tp / (tp + fn) >= 0.9
    assert tp / (tp + fp) >= 0.8
    assert (tp, fp, fn, tn) == (19, 2, 0, 31)


def test_the_pairs_the_issue_names_are_now_found() -> None:
    score = {(a, b): s for s, _, a, b in scored()}
    # before: 0.135 and 0.170 against a threshold of 0.6
    assert score[("GK-0039", "AK-0043")] >= DEFAULT_THRESHOLD
    assert score[("XP-0001", "XP-0002")] >= DEFAULT_THRESHOLD
    # the same Act, the same options, another key: not a duplicate
    assert score[("GK-0045", "XP-0001")] < DEFAULT_THRESHOLD


def test_pairs_finds_every_pair_a_full_comparison_finds() -> None:
    """The candidate filter (a shared distinctive key word) loses nothing on real items."""
    items, _ = labelled()
    bank = [json.loads(p.read_text(encoding="utf-8"))
            for p in sorted((Path(__file__).parent.parent / "item_bank" / "items").glob("*.json"))]
    records = list(items.values()) + [b for b in bank if b["id"] not in items]
    index = SimilarityIndex(records)
    found = {(a, b) for a, b, _ in index.pairs(threshold=0.3)}
    full = (index._matrix @ index._matrix.T).toarray()  # every pair, no filter
    ids = index._ids
    brute = {
        tuple(sorted((ids[i], ids[j])))
        for i in range(len(ids)) for j in range(i + 1, len(ids)) if full[i, j] >= 0.3
    }
    assert len(brute) > 20
    assert {tuple(sorted(p)) for p in found} == brute


def test_identical_items_score_one_and_unrelated_ones_zero() -> None:
    items, _ = labelled()
    index = SimilarityIndex(items.values())
    assert index.score(items["GK-0045"], items["GK-0045"]) == 1.0
    nothing = {"id": "ZZ-0001", "stem": "qqq", "options": [{"id": "A", "text": "zzz"}], "key": ["A"]}
    assert index.score(items["GK-0045"], nothing) == 0.0


def test_fields_are_weighted_as_documented() -> None:
    """Two items with the same key but no text in common score the key's weight exactly."""
    a = {"id": "A", "stem": "alpha beta", "options": [{"id": "A", "text": "gamma delta"}], "key": ["A"]}
    b = {"id": "B", "stem": "omega sigma", "options": [{"id": "A", "text": "gamma delta"}], "key": ["A"]}
    index = SimilarityIndex([a, b])
    # text field: stems {alpha, beta, gamma, delta} against {omega, sigma, gamma, delta}, equal
    # idf for the shared pair (df 2) and for each own word (df 1): cosine = 2s^2 / (2s^2 + 2r^2)
    shared = math.log(3 / 3) + 1
    own = math.log(3 / 2) + 1
    text_cos = 2 * shared**2 / (2 * shared**2 + 2 * own**2)
    expected = similarity.WEIGHTS["key"] * 1.0 + similarity.WEIGHTS["text"] * text_cos
    assert index.score(a, b) == round(expected, 3)


def test_a_draft_without_a_key_is_compared_on_its_text() -> None:
    full = {"id": "A", "stem": "alpha beta", "options": [{"id": "A", "text": "gamma"}], "key": ["A"]}
    draft = {"id": "B", "stem": "alpha beta", "options": [{"id": "A", "text": "gamma"}], "key": []}
    index = SimilarityIndex([full])
    assert index.score(full, draft) == round(math.sqrt(similarity.WEIGHTS["text"]), 3)


def test_number_words_citations_and_key_text() -> None:
    words = "seventy-two hours, eight days, twenty one, 72 hours, seventy, zero".replace(",", "")
    assert similarity._numbers(words.replace("-", " ").split()) == [
        "72", "hours", "8", "days", "21", "72", "hours", "70", "0"]
    assert citations("under s.46(6) and section 17ZA of the children act 1989; article 8",
                     ["children-act-1989", 7]) == [
        "sec:46", "sec:17za", "act:children-1989", "art:8", "ref:children-act-1989"]
    sba = {"format": "single_best_answer", "key": ["B"],
           "options": [{"id": "A", "text": "No"}, {"id": "B", "text": "Yes", "rationale": "R"}]}
    assert key_text(sba) == "Yes R"
    tf = {"format": "true_false", "stem": "S", "key": ["B"],
          "options": [{"id": "A", "text": "True"}, {"id": "B", "text": "False", "rationale": "W"}]}
    assert key_text(tf) == "S answer_no answer_no W"
    mtf = {"format": "multiple_true_false", "key": {"A": True, "B": False},
           "options": [{"id": "A", "text": "P", "rationale": "x"}, {"id": "B", "text": "Q"}]}
    assert key_text(mtf) == "P x"


@pytest.mark.parametrize("broken", [
    {}, {"options": "none", "key": 3}, {"stem": 5, "options": [1, None], "key": {"A": "yes"}},
    {"format": "true_false", "key": ["A"], "options": [{"id": "A", "text": None}]},
])
def test_half_written_drafts_do_not_break_it(broken: dict) -> None:
    index = SimilarityIndex([{"id": "GK-0001", "stem": "a stem", "options": [], "key": []}])
    assert set(features(broken)) == {"key", "text"}
    assert index.similar(broken) == []


def test_a_draft_sharing_only_its_key_is_scored_on_the_key() -> None:
    """Only the key field has known tokens (the key's rationale): the text's are all new."""
    known = {"id": "A", "stem": "alpha", "key": ["A"],
             "options": [{"id": "A", "text": "gamma", "rationale": "delta"}]}
    index = SimilarityIndex([known, {"id": "B", "stem": "beta", "options": [], "key": []}])
    draft = {"id": "C", "stem": "zzzz", "key": ["A"],
             "options": [{"id": "A", "text": "qqqq", "rationale": "delta"}]}
    assert 0 < index.score(known, draft) < similarity.WEIGHTS["key"]
    assert [m.id for m in index.similar(draft, threshold=0.01)] == ["A"]
    draft["options"] = [{"id": "A", "text": "qqqq", "rationale": "wwww"}]
    assert index.similar(draft, threshold=0.01) == []


def test_similar_skips_itself_and_orders_by_score() -> None:
    items, _ = labelled()
    index = SimilarityIndex(items.values())
    found = index.similar(items["GK-0021"], threshold=0.3, limit=10)
    assert [m.id for m in found][:2] == ["XP-0008", "AK-0013"]
    assert "GK-0021" not in [m.id for m in found]
    assert [m.score for m in found] == sorted((m.score for m in found), reverse=True)
    assert SimilarityIndex([]).similar(items["GK-0021"]) == []


def test_duplicate_findings_only_for_live_pairs_that_are_not_enemies() -> None:
    items, _ = labelled()
    others = [dict(i, status="approved") for k, i in items.items() if k not in ("GK-0039", "AK-0043")]

    def named(a: dict, b: dict) -> list[tuple[str, str, str, str, str]]:
        return [(f.path, f.pointer, f.code, f.severity, f.message.split(" (")[0])
                for f in duplicate_findings([*others, a, b]) if "GK-0039" in f.message]

    a, b = dict(items["GK-0039"], enemies=[]), dict(items["AK-0043"], enemies=[])
    assert named(a, b) == [("items/AK-0043.json", "/enemies", "near-duplicate", "warning",
                            "AK-0043 is very like GK-0039")]
    assert "list each as the other's enemy" in duplicate_findings([*others, a, b])[0].message
    assert named(dict(a, enemies=["AK-0043"]), dict(b, enemies=["GK-0039"])) == []
    assert named(dict(a, status="draft"), b) == []


def _set_enemies(bank: Bank, a: str, b: str, enemies: bool) -> None:
    """Make two items enemies of each other, or not, in one commit."""
    first, second = bank.get(a), bank.get(b)
    for record, other in ((first, b), (second, a)):
        rest = [e for e in record.get("enemies", []) if e != other]
        record["enemies"] = sorted([*rest, other]) if enemies else rest
    bank.save_many([first, second], WRITER, f"{a} and {b}: {'enemies' if enemies else 'not enemies'}")


def test_validate_warns_of_near_duplicates_until_they_are_enemies(sample_bank_rw: Path) -> None:
    bank = open_bank(sample_bank_rw)
    # every likely pair in the sample bank is an enemy pair (GK-0039/AK-0043, AK-0013/GK-0021,
    # AK-0019/GK-0046, AK-0020/GK-0048): nothing to warn of
    assert [f for f in bank.validate().findings if f.code == "near-duplicate"] == []
    _set_enemies(bank, "AK-0020", "GK-0048", enemies=False)
    _set_enemies(bank, "AK-0013", "GK-0021", enemies=False)
    pairs = {f.path: f.message.split(" (")[0] for f in open_bank(sample_bank_rw).validate().findings
             if f.code == "near-duplicate"}
    assert pairs == {
        "items/AK-0013.json": "AK-0013 is very like GK-0021",
        "items/AK-0020.json": "AK-0020 is very like GK-0048",
    }
    _set_enemies(bank, "AK-0020", "GK-0048", enemies=True)
    assert git(sample_bank_rw, "status", "--porcelain") == ""
    again = {f.path for f in open_bank(sample_bank_rw).validate().findings
             if f.code == "near-duplicate"}
    assert again == {"items/AK-0013.json"}


def test_the_editor_names_the_item_and_suggests_an_enemy(sample_bank_rw: Path) -> None:
    items, _ = labelled()
    draft = dict(open_bank(sample_bank_rw).get("GK-0045"))
    draft.update(id="GK-0099", status="draft", enemies=[], stem=items["XP-0003"]["stem"],
                 options=items["XP-0003"]["options"], key=items["XP-0003"]["key"])
    bank = open_bank(sample_bank_rw)
    found = [f for f in bank.authoring.check_draft(draft) if f.code == "near-duplicate"]
    assert len(found) == 1 and "Very like GK-0045" in found[0].message
    assert "enemy" in found[0].message
    draft["enemies"] = ["GK-0045"]
    assert [f for f in bank.authoring.check_draft(draft) if f.code == "near-duplicate"] == []


def test_pairs_in_a_large_bank_finds_the_planted_duplicates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond EXACT_UP_TO items pairs() compares only candidates; the labelled duplicates,
    hidden among 3,000 items of random sentences in the sample bank's own words, are found."""
    import random
    import re

    items, pairs = labelled()
    words = re.findall(r"[A-Za-z']+", " ".join(
        f"{i['stem']} " + " ".join(f"{o['text']} {o['rationale']}" for o in i["options"])
        for i in items.values()))
    rng = random.Random(7)

    def sentence(n: int) -> str:
        return " ".join(rng.choice(words) for _ in range(n))

    noise = [{"id": f"SY-{n:05d}", "format": "single_best_answer", "stem": sentence(45),
              "key": ["A"], "options": [{"id": c, "text": sentence(10), "rationale": sentence(25)}
                                        for c in "ABCD"]} for n in range(3000)]
    index = SimilarityIndex([*noise, *items.values()])
    wanted = {frozenset((p["a"], p["b"])) for p in pairs if p["label"] == "duplicate"
              and index.score(items[p["a"]], items[p["b"]]) >= DEFAULT_THRESHOLD}
    monkeypatch.setattr(similarity, "EXACT_UP_TO", 0)
    found = {frozenset((a, b)): s for a, b, s in index.pairs()}
    assert len(wanted) >= 15
    assert wanted <= set(found)
    by_id = {**{i["id"]: i for i in noise}, **items}
    assert all(index.score(*(by_id[x] for x in pair)) == s for pair, s in found.items())


def test_validate_reuses_duplicate_findings_while_no_live_item_changes(
    sample_bank_rw: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    calls: list[int] = []

    def counted(items: list[dict]) -> list:
        calls.append(len(items))
        return duplicate_findings(items)

    bank = open_bank(sample_bank_rw)
    _set_enemies(bank, "AK-0020", "GK-0048", enemies=False)  # one pair to warn of
    monkeypatch.setattr(similarity, "duplicate_findings", counted)  # read when validate runs
    first = [f for f in bank.validate().findings if f.code == "near-duplicate"]
    draft = dict(bank.get("GK-0045"), id="GK-0099", status="draft", enemies=[])
    bank.save(draft, WRITER)  # a draft is not live: the pass is not repeated
    again = [f for f in open_bank(sample_bank_rw).validate().findings if f.code == "near-duplicate"]
    assert again == first and len(first) == 1 and len(calls) == 1
    live = bank.get("GK-0048")
    live["stem"] += " (Children Act 1989 s.32(5))"  # back to review: still live, but changed
    bank.save(live, WRITER)
    open_bank(sample_bank_rw).validate()
    assert len(calls) == 2 and calls[0] == calls[1]
