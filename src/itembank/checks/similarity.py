"""Near-duplicate detection over the bank: TF-IDF cosine similarity of an item's words (stem and
options) against every other item, so a writer sees an existing item that asks the same thing."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "he",
        "her",
        "his",
        "how",
        "in",
        "is",
        "it",
        "its",
        "not",
        "of",
        "on",
        "or",
        "should",
        "that",
        "the",
        "their",
        "them",
        "they",
        "this",
        "to",
        "under",
        "was",
        "were",
        "what",
        "when",
        "which",
        "who",
        "will",
        "with",
        "would",
        "you",
        "your",
    }
)
DEFAULT_THRESHOLD = 0.6


def _tokens(item: Mapping[str, Any]) -> Counter[str]:
    parts = [str(item.get("stem", ""))]
    parts += [
        str(o.get("text", "")) for o in item.get("options", []) or [] if isinstance(o, Mapping)
    ]
    words = [w for w in _WORD.findall(" ".join(parts).lower()) if w not in _STOP and len(w) > 2]
    return Counter(words + [f"{a} {b}" for a, b in itertools.pairwise(words)])


@dataclass(frozen=True)
class Match:
    """An existing item similar to the one being written."""

    id: str
    score: float
    stem: str


class SimilarityIndex:
    """TF-IDF vectors of every item, built once and queried per draft."""

    def __init__(self, items: Iterable[Mapping[str, Any]]) -> None:
        self._items = {str(i.get("id")): i for i in items}
        counts = {ident: _tokens(item) for ident, item in self._items.items()}
        document_frequency: Counter[str] = Counter()
        for tokens in counts.values():
            document_frequency.update(tokens.keys())
        total = max(1, len(counts))
        self._idf = {t: math.log((1 + total) / (1 + n)) + 1 for t, n in document_frequency.items()}
        self._vectors = {ident: self._vector(tokens) for ident, tokens in counts.items()}

    def _vector(self, tokens: Counter[str]) -> dict[str, float]:
        vector = {
            t: n * self._idf.get(t, math.log(1 + len(self._items)) + 1) for t, n in tokens.items()
        }
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {t: v / norm for t, v in vector.items()}

    def similar(
        self, item: Mapping[str, Any], threshold: float = DEFAULT_THRESHOLD, limit: int = 3
    ) -> list[Match]:
        """Items (other than this one) whose cosine similarity is at least `threshold`."""
        query = self._vector(_tokens(item))
        own = str(item.get("id"))
        scores = []
        for ident, vector in self._vectors.items():
            if ident == own:
                continue
            small, large = (query, vector) if len(query) < len(vector) else (vector, query)
            score = sum(w * large.get(t, 0.0) for t, w in small.items())
            if score >= threshold:
                scores.append(Match(ident, round(score, 3), str(self._items[ident].get("stem"))))
        return sorted(scores, key=lambda m: -m.score)[:limit]
