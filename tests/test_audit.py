"""The cue audit: exact chance values and p-values against hand computations, on synthetic items
and on a small synthetic bank in a temporary repository; the command's exit codes; the sample
bank passes (no cue significantly above chance); and the tightened per-item key-longer lint."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from itembank import open_bank
from itembank.checks.cues import audit, item_trial, poisson_binomial_sf
from itembank.checks.lint import lint_item
from itembank.core.findings import Finding
from itembank.ui.maintenance import CUE_COLUMNS, cue_table

from .conftest import VALID_BANK, git, make_repo

EXE = shutil.which("itembank", path=str(Path(sys.executable).parent)) or shutil.which("itembank")
ANN = "Ann Writer <ann.writer@example.org>"
BEN = "Ben Writer <ben.writer@example.org>"


def sba(ident: str, texts: list[str], key: str = "A", stem: str = "Which is right?",
        author: str = ANN, **extra: Any) -> dict[str, Any]:
    options = [{"id": chr(65 + i), "text": t, "rationale": "r"} for i, t in enumerate(texts)]
    return {"id": ident, "format": "single_best_answer", "stem": stem, "options": options,
            "key": [key], "author": author, "status": "approved", **extra}


def lengths(*sizes: int) -> list[str]:
    return ["x" * n for n in sizes]


def rate(result: Any, cue: str, scope: str = "bank") -> Any:
    return next(r for r in result.rates if r.cue == cue and r.scope == scope)


# ---- statistics against hand computations ------------------------------------------------------

def test_binomial_tail_by_hand() -> None:
    # P(X >= 3), X ~ Bin(4, 1/4) = 4 (1/4)^3 (3/4) + (1/4)^4 = 0.046875 + 0.00390625
    assert poisson_binomial_sf(3, [0.25] * 4) == pytest.approx(0.05078125, abs=1e-12)
    # P(X >= 4), X ~ Bin(5, 1/4) = 5 (1/4)^4 (3/4) + (1/4)^5
    assert poisson_binomial_sf(4, [0.25] * 5) == pytest.approx(0.015625, abs=1e-12)


def test_poisson_binomial_tail_by_hand() -> None:
    # chances 1/2 and 1/4: P(0) = 1/2 * 3/4 = 3/8, P(2) = 1/8
    assert poisson_binomial_sf(1, [0.5, 0.25]) == pytest.approx(0.625, abs=1e-12)
    assert poisson_binomial_sf(2, [0.5, 0.25]) == pytest.approx(0.125, abs=1e-12)
    assert poisson_binomial_sf(0, [0.5, 0.25]) == 1.0
    assert poisson_binomial_sf(3, [0.5, 0.25]) == 0.0
    # the recurrence agrees with the binomial where the chances are equal (perturbed by 1e-12)
    assert poisson_binomial_sf(3, [0.25, 0.25, 0.25, 0.25 + 1e-12]) == pytest.approx(
        0.05078125, abs=1e-9)


def test_key_longest_chance_is_one_over_options_or_the_share_of_ties() -> None:
    assert item_trial("key-longest", sba("T-1", lengths(40, 30, 20, 10))) == (True, 0.25)
    assert item_trial("key-longest", sba("T-2", lengths(10, 30, 20, 40))) == (False, 0.25)
    # two options tie for longest: either as the key shows the cue, 2 of 4 keyings
    assert item_trial("key-longest", sba("T-3", lengths(40, 40, 20, 10))) == (True, 0.5)
    # every option the same length: the cue cannot go either way, so the item is no trial
    assert item_trial("key-longest", sba("T-4", lengths(20, 20, 20, 20))) is None


def test_keys_longer_chance_is_the_share_of_three_key_subsets() -> None:
    # lengths 10..80: a 3-subset's mean beats the other five's when its sum of 1..8 is >= 14;
    # complements (x -> 9 - x) pair sums s and 27 - s, so exactly half of the 56 subsets do
    item = sba("T-5", lengths(10, 20, 30, 40, 50, 60, 70, 80), format="multiple_response")
    item["key"] = ["F", "G", "H"]
    assert item_trial("keys-longer", item) == (True, 0.5)
    item["key"] = ["A", "B", "H"]  # (10 + 20 + 80) / 3 < (30 + ... + 70) / 5
    assert item_trial("keys-longer", item) == (False, 0.5)


def test_grammar_word_and_absolute_cues() -> None:
    stem = "The order a court makes for up to eight days is an"
    texts = ["emergency protection order", "care order", "supervision order", "interim care order"]
    # 2 of 4 options agree with "an": a keying shows the cue when the key is one of them
    assert item_trial("article-agreement", sba("T-6", texts, "A", stem)) == (True, 0.5)
    assert item_trial("article-agreement", sba("T-6", texts, "B", stem)) == (False, 0.5)
    plural = "The orders that end at 18 are"
    assert item_trial("number-agreement", sba("T-7", ["care orders", "a care order", "the order",
                                                          "a plan"], "A", plural)) == (True, 0.25)
    words = "Which duty applies to kinship carers?"
    texts = ["Assess kinship carers", "Assess the parents", "Write a plan", "Hold a meeting"]
    # "kinship" (and "carer") appear in option A alone: 1 of 4 keyings repeats a stem word alone
    assert item_trial("stem-word-in-key", sba("T-8", texts, "A", words)) == (True, 0.25)
    absolute = ["Consider it", "Always refuse", "Ask a manager", "Wait"]
    # one option has an absolute word: 3 of 4 keyings leave it among the distractors
    assert item_trial("absolute-in-distractor", sba("T-9", absolute, "A")) == (True, 0.75)
    assert item_trial("absolute-in-distractor", sba("T-9", absolute, "B")) == (False, 0.75)


def tf(ident: str, key: str, stem: str = "A statement.") -> dict[str, Any]:
    return {"id": ident, "format": "true_false", "stem": stem, "fixed_order": True,
            "options": [{"id": "A", "text": "True"}, {"id": "B", "text": "False"}],
            "key": [key], "author": BEN, "status": "approved"}


def test_rates_by_scope_and_fixed_order_positions() -> None:
    items = [sba(f"S-{i}", lengths(40, 30, 20, 10)) for i in range(4)]
    items.append(sba("S-4", lengths(10, 30, 20, 40), author=BEN))
    items += [tf(f"F-{i}", "A") for i in range(4)]
    items.append(tf("F-4", "B", "Care orders always last until 18."))
    items.append({**tf("F-5", "A"), "status": "retired"})  # retired: not audited
    result = audit(items, by_writer=True)
    longest = rate(result, "key-longest")
    assert (longest.items, longest.hits, longest.expected) == (5, 4, 1.25)
    assert longest.p_value == pytest.approx(0.015625, abs=1e-12) and longest.significant
    assert longest.hit_ids == ("S-0", "S-1", "S-2", "S-3")
    ann = rate(result, "key-longest", "Ann Writer")
    assert (ann.items, ann.hits) == (4, 4) and ann.p_value == pytest.approx(0.25**4)
    first = rate(result, "key-position-1")
    assert (first.items, first.hits, first.chance) == (5, 4, 0.5)
    assert first.p_value == pytest.approx(6 / 32, abs=1e-12)  # (5 + 1) / 2^5
    # one statement with an absolute word, keyed false; 1 of 5 statements is false
    false = rate(result, "absolute-statement-false")
    assert (false.items, false.hits, false.chance) == (1, 1, 0.2)
    assert false.p_value == pytest.approx(0.2)
    assert result.items == 10
    assert [r.cue for r in result.significant] == ["key-longest", "key-longest"]


# ---- the command on a synthetic bank and on the sample bank ------------------------------------

def run(*args: str) -> subprocess.CompletedProcess[str]:
    assert EXE, "the itembank console script is not installed"
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def cued_bank(tmp_path: Path) -> Path:
    """The valid test bank with five more SBA items, the key the longest option in four."""
    bank = make_repo(tmp_path, VALID_BANK)
    for i in range(5):
        sizes = (10, 30, 20, 40) if i == 4 else (40, 30, 20, 10)
        item = sba(f"CU-{i:04d}", lengths(*sizes), status="draft")
        (bank / "items" / f"CU-{i:04d}.json").write_text(json.dumps(item), encoding="utf-8")
    git(bank.parent, "add", "-A")
    git(bank.parent, "commit", "-q", "-m", "cued items")
    return bank


def test_audit_exits_1_and_names_the_cue_when_a_rate_is_above_chance(cued_bank: Path) -> None:
    out = run("audit", "--bank", str(cued_bank), "--format", "json")
    assert out.returncode == 1, out.stderr
    report = json.loads(out.stdout)
    longest = next(r for r in report["rates"] if r["cue"] == "key-longest")
    assert [longest[k] for k in ("hits", "chance")] == [4, 0.25]
    assert longest["significant"] is True and set(longest["hit_ids"]) >= {"CU-0000", "CU-0003"}
    text = run("audit", "--bank", str(cued_bank), "--by-writer")
    assert text.returncode == 1
    assert "key-longest" in text.stdout and "! above chance" in text.stdout
    assert "Ann Writer" in text.stdout


def test_audit_bad_calls_exit_2(tmp_path: Path) -> None:
    assert run("audit", "--format", "xml").returncode == 2
    out = run("audit", "--bank", str(tmp_path / "nowhere"))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    helped = run("audit", "--help")
    assert helped.returncode == 0 and "Exit 0" in helped.stdout and "--by-writer" in helped.stdout


def test_sample_bank_has_no_cue_above_chance(sample_bank_copy: Path) -> None:
    out = run("audit", "--bank", str(sample_bank_copy), "--format", "json")
    report = json.loads(out.stdout)
    bank_rates = [r for r in report["rates"] if r["scope"] == "bank"]
    assert {r["cue"] for r in bank_rates} >= {"key-longest", "keys-longer", "stem-word-in-key",
                                              "absolute-in-distractor", "key-position-1"}
    for r in bank_rates:
        assert r["p_value"] > 0.05, r
    assert out.returncode == 0


# ---- the per-item lint: a key clearly longer than EVERY distractor ------------------------------

def key_findings(sizes: tuple[int, ...], key: str = "A") -> list[Finding]:
    return [f for f in lint_item("items/T-1.json", sba("T-1", lengths(*sizes), key))
            if f.code == "key-longer"]


def test_key_longer_flags_a_key_clearly_longer_than_every_distractor() -> None:
    # 90 >= 1.2 x 75 and 15 longer; the mean rule alone (90 / 65 = 1.38 < 1.5) missed it
    assert key_findings((90, 75, 60, 60)) == [Finding(
        "items/T-1.json", "/options/0/text", "key-longer", "warning",
        "The key is longer than every distractor (90 characters against at most 75; 65 on "
        "average): length cues the answer. Make a distractor as specific as the key, or the "
        "key as tight as the distractors.")]
    assert key_findings((89, 75, 60, 60)) == []  # 89 < 1.2 x 75
    assert key_findings((84, 70, 68, 66)) == []  # 1.2 x but only 14 characters longer
    assert key_findings((90, 75, 60, 100)) == []  # a distractor is longer
    # the mean rule still holds: 40 > 1.5 x 20 and longer than every distractor
    assert len(key_findings((40, 30, 15, 15))) == 1


def test_cue_table_for_the_maintenance_notebook(cued_bank: Path) -> None:
    frame = cue_table(open_bank(cued_bank))
    assert list(frame.columns) == CUE_COLUMNS
    row = frame[frame["cue"] == "the key is the longest option"].iloc[0]
    assert [row[c] for c in CUE_COLUMNS] == ["bank", "the key is the longest option", 5, 4, 0.8,
                                             0.25, 0.0156, "yes"]
    assert set(frame["above chance"]) == {"yes", ""}
