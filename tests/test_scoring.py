"""The core scorer: every format with its scoring rule."""

from __future__ import annotations

from typing import Any

import pytest

from itembank.forms.scoring import key_response, score


def item(fmt: str, key: Any, rule: str = "all_or_nothing", top: float = 1, **extra: Any) -> dict[str, Any]:
    return {"format": fmt, "key": key, "scoring": {"rule": rule, "max_score": top}, **extra}


SBA = item("single_best_answer", ["C"])
TF = item("true_false", ["A"])
MR_PC = item("multiple_response", ["A", "C", "F"], "partial_credit", 3, select_count=3)
MR_AON = item("multiple_response", ["A", "C", "F"], "all_or_nothing", 2, select_count=3)
MTF_PC = item("multiple_true_false", {"A": True, "B": False, "C": True, "D": False}, "partial_credit", 2)
MTF_AON = item("multiple_true_false", {"A": True, "B": False}, "all_or_nothing", 1)
MR_OPTIONS = item("multiple_response", ["A", "C"], "partial_credit", 2, select_count=2,
                  options=[{"id": i} for i in "ABCD"])  # fmt: skip


@pytest.mark.parametrize(
    ("record", "response", "expected"),
    [
        (SBA, ["C"], 1),
        (SBA, ["B"], 0),
        (SBA, ["C", "B"], 0),
        (SBA, [], 0),
        (SBA, None, 0),
        (TF, ["A"], 1),
        (TF, ["B"], 0),
        (MR_PC, ["A", "C", "F"], 3),
        (MR_PC, ["A", "C", "B"], 2),
        (MR_PC, ["A"], 1),
        (MR_PC, ["B", "D", "E"], 0),
        (MR_PC, ["A", "C", "F", "B"], 0),  # more than select_count scores 0
        (MR_PC, ["F", "A", "A"], 2),  # a repeated choice counts once
        (MR_AON, ["F", "C", "A"], 2),
        (MR_AON, ["A", "C"], 0),
        (MR_AON, ["A", "C", "B"], 0),
        (MTF_PC, {"A": True, "B": False, "C": True, "D": False}, 2),
        (MTF_PC, {"A": True, "B": True, "C": True, "D": False}, 1.5),
        (MTF_PC, {"A": True}, 0.5),  # unanswered statements are wrong
        (MTF_PC, {}, 0),
        (MTF_PC, ["A"], 0),  # wrong shape
        (MTF_AON, {"A": True, "B": False}, 1),
        (MTF_AON, {"A": True, "B": True}, 0),
        # as a QTI platform reports them: a statement given both values is wrong, not right
        (MTF_PC, ["A TRUE", "B FALSE", "C TRUE", "D FALSE"], 2),
        (MTF_PC, ["A TRUE", "A FALSE", "B FALSE", "C TRUE", "D FALSE"], 1.5),
        (MTF_PC, ["A TRUE", "A FALSE", "B TRUE", "B FALSE", "C TRUE", "C FALSE", "D TRUE", "D FALSE"], 0),
        (MTF_PC, ["A TRUE", "A TRUE", "Z TRUE", "TRUE C", "C"], 0.5),  # repeats, unknowns, junk
        (MTF_AON, ["A TRUE", "B FALSE", "B TRUE"], 0),
        (MTF_AON, ("A TRUE", "B FALSE"), 1),
        (MR_OPTIONS, ["A", "C", "Z"], 2),  # an id naming no option is not a third choice
        (MR_OPTIONS, ["A", "C", "B"], 0),
        (MR_OPTIONS, ["A", "A", "A"], 1),
    ],
)
def test_score(record: dict[str, Any], response: Any, expected: float) -> None:
    assert score(record, response) == pytest.approx(expected)


@pytest.mark.parametrize("record", [SBA, TF, MR_PC, MR_AON, MTF_PC, MTF_AON])
def test_the_key_earns_full_marks(record: dict[str, Any]) -> None:
    assert score(record, key_response(record)) == record["scoring"]["max_score"]


def test_every_sample_item_key_scores_max(sample_bank_copy: Any) -> None:
    from itembank import open_bank

    items = open_bank(sample_bank_copy).items()
    assert {i["format"] for i in items} == {"single_best_answer", "multiple_response", "true_false", "multiple_true_false"}
    for record in items:
        assert score(record, key_response(record)) == record["scoring"]["max_score"]
        assert score(record, None) == 0
