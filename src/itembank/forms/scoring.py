"""The core scorer: one candidate response to one item, by the item's format and scoring rule.

Responses use the item's own option ids (not the letters a shuffled paper shows):
- single_best_answer, true_false, multiple_response: the option ids chosen; an id chosen twice
  counts once, and an id that names none of the item's options is ignored (no player can
  offer it; the exported QTI rules count options the same way);
- multiple_true_false: {statement id: True/False}, or the pairs a QTI platform reports
  ("S1 TRUE", "S2 FALSE"); a statement left out, or given both values, counts as wrong (a
  pair of answers never earns a mark).

Rules (the item schema's `scoring.rule`):
- single_best_answer, true_false: all-or-nothing on the one key.
- multiple_response, all_or_nothing: full marks only for exactly the keys.
- multiple_response, partial_credit: max_score x keys chosen / keys; choosing more than
  select_count options scores 0.
- multiple_true_false, partial_credit: max_score x statements right / statements;
  all_or_nothing: full marks only when every statement is right.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Response = Sequence[str] | Mapping[str, bool] | None
TRUTH = {"TRUE": True, "FALSE": False}


def statement_answers(pairs: Iterable[object]) -> dict[str, bool | None]:
    """QTI directedPair values ("S1 TRUE") as {statement: answer}. A statement given both
    values maps to None, so it is wrong rather than right twice; other strings are ignored."""
    seen: dict[str, set[bool]] = {}
    for pair in pairs:
        parts = str(pair).split()
        if len(parts) == 2 and parts[1] in TRUTH:
            seen.setdefault(parts[0], set()).add(TRUTH[parts[1]])
    return {s: next(iter(v)) if len(v) == 1 else None for s, v in seen.items()}


def _keys(item: Mapping[str, Any]) -> set[str]:
    key = item.get("key")
    return {str(k) for k in key} if isinstance(key, list) else set()


def score(item: Mapping[str, Any], response: Response) -> float:
    """The marks `response` earns on `item` (0 for no response or one of the wrong shape)."""
    fmt = item["format"]
    max_score = float(item["scoring"]["max_score"])
    rule = item["scoring"]["rule"]
    if fmt == "multiple_true_false":
        key = item["key"]
        answers: Mapping[str, bool | None] | None = None
        if isinstance(response, Mapping):
            answers = response
        elif isinstance(response, Sequence) and not isinstance(response, str):
            answers = statement_answers(response)
        if answers is None or not key:
            return 0.0
        right = sum(1 for sid, truth in key.items() if answers.get(sid) is truth)
        if rule == "all_or_nothing":
            return max_score if right == len(key) else 0.0
        return max_score * right / len(key)
    if response is None or isinstance(response, (Mapping, str)):
        return 0.0
    chosen = list(dict.fromkeys(str(c) for c in response))
    options = {str(o.get("id")) for o in item.get("options", []) if isinstance(o, Mapping)}
    if options:
        chosen = [c for c in chosen if c in options]
    keys = _keys(item)
    if fmt in ("single_best_answer", "true_false"):
        return max_score if len(chosen) == 1 and chosen[0] in keys else 0.0
    # multiple_response
    if len(chosen) > int(item.get("select_count", len(keys))):
        return 0.0
    if rule == "all_or_nothing":
        return max_score if set(chosen) == keys else 0.0
    return max_score * len(keys & set(chosen)) / len(keys) if keys else 0.0


def max_score(item: Mapping[str, Any]) -> float:
    """The most an item can earn."""
    return float(item["scoring"]["max_score"])


def key_response(item: Mapping[str, Any]) -> Response:
    """The response that earns full marks (the key in response form)."""
    key = item["key"]
    return dict(key) if isinstance(key, Mapping) else list(key)


__all__ = ["Response", "key_response", "max_score", "score", "statement_answers"]
