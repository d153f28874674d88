"""Near-duplicate detection over the bank, so a writer sees an existing item that asks the same
thing and validate names pairs that could be drawn together on one paper.

A duplicate is the same question with the same answer, however it is worded, while a different
question on the same topic (same statute, same options, another key) is not. So an item is
described by two weighted fields, each a TF-IDF vector (sublinear tf, L2-normalised):

- ``key`` (0.6): what the item says is right (the keyed options' text and rationale; a
  true/false statement with its answer; the true statements of a multiple true/false), as
  word stems, character 4-grams (for reworded or compound terms) and legal citations;
- ``text`` (0.4): the stem and every option, as word stems (a paraphrase keeps its content
  words more than their order) and legal citations (statute, section, article, references).

Number words count as digits ("seventy-two hours" is "72 hours"). The score of two items is the
weighted sum of the fields' cosines. Everything is computed here from the records (no model,
no download); the weights and DEFAULT_THRESHOLD were chosen on the labelled pairs in
tests/data/duplicates/pairs.json (benchmarks/similarity.py --labelled prints them)."""

from __future__ import annotations

import array
import functools
import hashlib
import itertools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from itembank.core.findings import Finding, warning

if (
    TYPE_CHECKING
):  # scipy is loaded when an index is built: a CLI that never builds one starts faster
    from scipy import sparse

DEFAULT_THRESHOLD = 0.47
#: Bump when the features or weights change, so cached duplicate findings are recomputed.
SIMILARITY_VERSION = "2"
#: The fields' weights (they sum to 1, so identical items score 1).
WEIGHTS = {"key": 0.6, "text": 0.4}
_WORD = re.compile(r"[a-z0-9]+")
_STOP_WORDS = (
    "a about after all also an and any are as at be because been before being both but by can "
    "could did do does each either for from had has have he her his how i if in into is it its "
    "may might more most must no not of on only or other our out own should so some such than "
    "that the their them then there these they this those to under up was we were what when "
    "where whether which while who whom why will with would you your correct incorrect true "
    "false yes choose three following best"
)
_STOP = frozenset(_STOP_WORDS.split())
_UNITS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
_UNITS += "fifteen sixteen seventeen eighteen nineteen"
_NUMBERS = {w: n for n, w in enumerate(_UNITS.split())}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70}
_TENS.update({"eighty": 80, "ninety": 90})
_NUMBER_WORDS = frozenset(_NUMBERS) | frozenset(_TENS)
_CITATION = re.compile(
    r"\b([a-z]+)\s+(?:act|regulations)\s+(\d{4})\b"  # a statute: its last word and year
    r"|\b(?:sections?|ss?)\.?\s*(\d+[a-z]{0,2})\b"  # s.46, section 17ZA
    r"|\barticle\s*(\d+)\b"
)


def _numbers(words: list[str]) -> list[str]:
    """Number words as digits, so 'seventy-two hours' and '72 hours' share their tokens."""
    if _NUMBER_WORDS.isdisjoint(words):  # most texts: no Python loop
        return words
    out: list[str] = []
    for word in words:
        if word in _NUMBERS and out and out[-1] in _TENS_DIGITS and 0 < _NUMBERS[word] < 10:
            out[-1] = str(int(out[-1]) + _NUMBERS[word])  # seventy-two
        elif word in _NUMBERS:
            out.append(str(_NUMBERS[word]))
        elif word in _TENS:
            out.append(str(_TENS[word]))
        else:
            out.append(word)
    return out


_TENS_DIGITS = frozenset(str(n) for n in _TENS.values())


def words(text: str) -> list[str]:
    """A text's words, lower case, number words as digits: what two texts share however they
    are cased, punctuated, emphasised (Markdown) or numbered."""
    return _numbers(_WORD.findall(text.lower()))


def _stem(word: str) -> str:
    """A crude stem (the first six letters of the word without a plural or -ing/-ed ending):
    enough for 'protected'/'protection' to meet, and cheap at 50,000 items."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    return word[:6]


def citations(text: str, references: Iterable[object] = ()) -> list[str]:
    """The legal citations in a text, in order: statutes (by their last word and year),
    sections and articles; then the item's references."""
    found = []
    for act, year, section, article in _CITATION.findall(text.lower()):
        found.append(
            f"act:{act}-{year}" if act else f"sec:{section}" if section else f"art:{article}"
        )
    return found + [f"ref:{r}" for r in references if isinstance(r, str)]


class _Tokens(dict[str, str]):
    """Each word's stem, or "" for a stop word or a short word that is not a number, computed
    once per word (a bank's vocabulary is small, its words many; a hit costs no Python call)."""

    def __missing__(self, word: str) -> str:
        token = "" if word in _STOP or (len(word) < 3 and not word.isdigit()) else _stem(word)
        if len(self) < 500_000:
            self[word] = token
        return token


_TOKENS = _Tokens()


def _words(words: list[str]) -> list[str]:
    return [t for t in map(_TOKENS.__getitem__, words) if t]


@functools.lru_cache(maxsize=200_000)
def _word_grams(word: str, n: int = 4) -> tuple[str, ...]:
    padded = f" {word} "
    return tuple("~" + padded[i : i + n] for i in range(max(1, len(padded) - n + 1)))


def _grams(words: list[str]) -> list[str]:
    return [g for w in words if w not in _STOP for g in _word_grams(w)]


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _options(item: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    options = item.get("options")
    return [o for o in options if isinstance(o, Mapping)] if isinstance(options, list) else []


def key_text(item: Mapping[str, Any]) -> str:
    """What the item says is right, in words: the keyed options (text and rationale); for a
    true/false item its statement and answer; for multiple true/false its true statements."""
    key = item.get("key")
    options = _options(item)
    if isinstance(key, Mapping):  # multiple true/false: {option: true|false}
        return " ".join(
            f"{_text(o.get('text'))} {_text(o.get('rationale'))}"
            for o in options
            if key.get(o.get("id")) is True
        )
    keyed = set(key) if isinstance(key, list) else set()
    chosen = [o for o in options if o.get("id") in keyed]
    if item.get("format") == "true_false":
        answer = " ".join(_text(o.get("text")).lower() for o in chosen)
        polarity = "answer_yes" if answer in ("true", "yes") else "answer_no"
        rationale = " ".join(_text(o.get("rationale")) for o in chosen)
        return f"{_text(item.get('stem'))} {polarity} {polarity} {rationale}"
    return " ".join(f"{_text(o.get('text'))} {_text(o.get('rationale'))}" for o in chosen)


def features(item: Mapping[str, Any]) -> dict[str, list[str]]:
    """The tokens of each field of an item (any record: a draft may be half written)."""
    options = " ".join(_text(o.get("text")) for o in _options(item))
    text = f"{_text(item.get('stem'))} {options}".lower()
    key = key_text(item).lower()
    references = item.get("references")
    refs = references if isinstance(references, list) else []
    key_words = _numbers(_WORD.findall(key))
    return {
        "key": _words(key_words) + _grams(key_words) + citations(key),
        "text": _words(_numbers(_WORD.findall(text))) + citations(text, refs),
    }


@dataclass(frozen=True)
class Match:
    """An existing item similar to the one being written."""

    id: str
    score: float
    stem: str


class SimilarityIndex:
    """The items' field vectors as one sparse matrix (each field L2-normalised and scaled by
    the square root of its weight, so a dot product is the weighted sum of the cosines),
    built once and queried per draft or for every pair. The arithmetic is numpy's: at 50,000
    items a Python loop per token would take most of a minute."""

    def __init__(self, items: Iterable[Mapping[str, Any]]) -> None:
        from scipy import sparse

        self._items = {str(i.get("id")): i for i in items}
        self._ids = list(self._items)
        # a new token takes the next column (defaultdict: no Python call per token)
        self._vocab: dict[str, dict[str, int]] = {
            field: defaultdict(itertools.count().__next__) for field in WEIGHTS
        }
        columns = array.array("q")
        counts = array.array("q")
        # tokens per (row, field): rows in order, fields in WEIGHTS order
        lengths = array.array("q")
        for item in self._items.values():
            tokens = features(item)
            for field, vocab in self._vocab.items():
                found = Counter(tokens[field])
                columns.extend([vocab[t] for t in found])
                counts.extend(found.values())
                lengths.append(len(found))
        self._vocab = {field: dict(vocab) for field, vocab in self._vocab.items()}  # now fixed
        self._offsets = np.cumsum([0] + [len(self._vocab[f]) for f in WEIGHTS])
        total = len(self._ids)
        group = np.repeat(np.arange(len(lengths), dtype=np.int64), np.frombuffer(lengths, np.int64))
        rows, fields = np.divmod(group, len(WEIGHTS))
        column = np.frombuffer(columns, np.int64) + self._offsets[fields]
        frequency = np.bincount(column, minlength=int(self._offsets[-1]))
        self._idf = np.log((1 + total) / (1 + frequency)) + 1
        self._rare_idf = math.log(1 + total) + 1  # a token no indexed item has
        data = self._weights(rows, fields, column, np.frombuffer(counts, np.int64))
        self._matrix = sparse.csr_matrix(
            (data, (rows, column)), shape=(total, int(self._offsets[-1]))
        )

    def _weights(
        self,
        rows: np.ndarray,
        fields: np.ndarray,
        column: np.ndarray,
        counts: np.ndarray,
        unseen: np.ndarray | None = None,
    ) -> np.ndarray:
        """Sublinear tf x idf, each (row, field) L2-normalised and scaled by the square root of
        its weight among the fields the row has, so every row has norm 1 (a draft with no key
        yet is compared on its text alone). `unseen` adds the squared weights of a query's
        tokens the index does not have."""
        if not len(rows):
            return np.zeros(0)
        data = (1 + np.log(counts)) * self._idf[column]
        width = len(WEIGHTS)
        groups = rows * width + fields
        size = max(int(groups.max()) + 1, 0 if unseen is None else len(unseen))
        squares = np.bincount(groups, data * data, minlength=size)
        if unseen is not None:
            squares[: len(unseen)] += unseen
        weight = np.asarray(list(WEIGHTS.values()))
        present = np.flatnonzero(squares > 0)
        share = np.bincount(present // width, weight[present % width])
        scale = np.sqrt(weight[fields] / share[rows] / squares[groups])
        weighted: np.ndarray = data * scale
        return weighted

    def _query(self, item: Mapping[str, Any]) -> sparse.csr_matrix:
        """An item's vector against this index (tokens no indexed item has make its norm
        larger, so its score falls, but cannot match)."""
        from scipy import sparse

        fields, columns, counts = [], [], []
        unseen = np.zeros(len(WEIGHTS))
        for field, tokens in features(item).items():
            vocab = self._vocab[field]
            for token, n in Counter(tokens).items():
                if token in vocab:
                    columns.append(vocab[token] + int(self._offsets[_FIELDS[field]]))
                    counts.append(n)
                    fields.append(_FIELDS[field])
                else:
                    unseen[_FIELDS[field]] += ((1 + math.log(n)) * self._rare_idf) ** 2
        column = np.asarray(columns, dtype=np.int64)
        rows = np.zeros(len(columns), dtype=np.int64)
        data = self._weights(
            rows, np.asarray(fields, dtype=np.int64), column, np.asarray(counts), unseen
        )
        return sparse.csr_matrix((data, (rows, column)), shape=(1, int(self._offsets[-1])))

    def score(self, a: Mapping[str, Any], b: Mapping[str, Any]) -> float:
        """How alike two items are, from 0 (nothing shared) to 1 (the same item)."""
        return round(float(self._query(a).multiply(self._query(b)).sum()), 3)

    def similar(
        self, item: Mapping[str, Any], threshold: float = DEFAULT_THRESHOLD, limit: int = 3
    ) -> list[Match]:
        """Items (other than this one) scoring at least `threshold` against it, best first."""
        if not self._ids:
            return []
        scores = (self._matrix @ self._query(item).T).toarray().ravel()
        own = str(item.get("id"))
        found = [
            Match(
                self._ids[i],
                round(float(scores[i]), 3),
                _text(self._items[self._ids[i]].get("stem")),
            )
            for i in np.flatnonzero(scores >= threshold)
            if self._ids[i] != own
        ]
        return sorted(found, key=lambda m: (-m.score, m.id))[:limit]

    def pairs(
        self, ids: Iterable[str] | None = None, threshold: float = DEFAULT_THRESHOLD
    ) -> list[tuple[str, str, float]]:
        """Every pair of items (of `ids`, default all) scoring at least `threshold`, best first.

        Up to EXACT_UP_TO items every pair is compared. Beyond, that product is nearly dense,
        so candidates are pairs whose TOP heaviest shared words (words and citations some
        other item also has) already give them at least PARTIAL of the score, and each is
        then scored exactly. A pair whose likeness lies outside both items' heaviest words
        is not compared there: benchmarks/similarity.py --planted measures what that misses."""
        wanted = set(self._ids if ids is None else ids)
        rows = np.asarray(
            [i for i, ident in enumerate(self._ids) if ident in wanted], dtype=np.int64
        )
        if len(rows) < 2:
            return []
        matrix = self._matrix[rows]
        if len(rows) <= EXACT_UP_TO:
            left, right, exact = self._every_pair(matrix, threshold)
        else:
            candidates = self._candidates(matrix, threshold)
            left, right = candidates.row, candidates.col
            exact = np.asarray(matrix[left].multiply(matrix[right]).sum(axis=1)).ravel()
        keep = np.flatnonzero(exact >= threshold)
        found = [
            (self._ids[rows[left[k]]], self._ids[rows[right[k]]], round(float(exact[k]), 3))
            for k in keep
        ]
        return sorted(found, key=lambda p: (-p[2], p[0], p[1]))

    @staticmethod
    def _every_pair(
        matrix: sparse.csr_matrix, threshold: float, block: int = 500
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every pair's exact score, a block of rows at a time (only those above kept)."""
        transposed = matrix.T.tocsc()
        found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for start in range(0, matrix.shape[0], block):
            scores = (matrix[start : start + block] @ transposed).tocoo()
            rows = scores.row + start
            keep = (scores.data >= threshold) & (rows < scores.col)
            found.append((rows[keep], scores.col[keep], scores.data[keep]))
        return tuple(np.concatenate(parts) for parts in zip(*found, strict=True))  # type: ignore[return-value]

    def _candidates(self, matrix: sparse.csr_matrix, threshold: float) -> sparse.coo_matrix:
        """Pairs whose TOP heaviest shared words, of the whole item or of its key alone,
        already give them PARTIAL of the score (either choice alone misses a duplicate the
        other finds: benchmarks/similarity.py --planted)."""
        from scipy import sparse

        shared = np.diff(matrix.tocsc().indptr) > 1
        start, end = int(self._offsets[_FIELDS["key"]]), int(self._offsets[_FIELDS["key"] + 1])
        grams = [c + start for t, c in self._vocab["key"].items() if t.startswith("~")]
        shared[grams] = False  # a word's 4-grams would take the places of other words
        in_key = np.zeros_like(shared)
        in_key[start:end] = True
        found = sparse.csr_matrix(matrix.shape[:1] * 2)
        for allowed in (shared, shared & in_key):
            heaviest = self._top(matrix, allowed)
            partial = sparse.triu(heaviest @ heaviest.T, k=1).tocsr()
            partial.data[partial.data < min(PARTIAL, threshold)] = 0
            partial.eliminate_zeros()
            found = found + partial
        return self._best_partners(found + found.T).tocoo()

    @staticmethod
    def _best_partners(scores: sparse.csr_matrix) -> sparse.csr_matrix:
        """Each row's PARTNERS best candidates (by partial score), each pair once: what exact
        scoring costs stays linear in the bank's size."""
        from scipy import sparse

        scores = scores.tocsr()
        keep = np.zeros(len(scores.data), dtype=bool)
        for row in range(scores.shape[0]):
            start, end = scores.indptr[row], scores.indptr[row + 1]
            if end - start > PARTNERS:
                best = np.argpartition(-scores.data[start:end], PARTNERS)[:PARTNERS] + start
                keep[best] = True
            else:
                keep[start:end] = True
        rows = np.repeat(np.arange(scores.shape[0]), np.diff(scores.indptr))[keep]
        chosen = sparse.coo_matrix(
            (scores.data[keep], (rows, scores.indices[keep])), shape=scores.shape
        ).tocsr()
        return sparse.triu(chosen + chosen.T, k=1).tocsr()

    @staticmethod
    def _top(matrix: sparse.csr_matrix, allowed: np.ndarray) -> sparse.csr_matrix:
        """Each row's TOP heaviest entries among the allowed columns."""
        from scipy import sparse

        indptr, indices, data = matrix.indptr, matrix.indices, matrix.data
        keep = np.zeros(len(data), dtype=bool)
        ok = allowed[indices]
        for row in range(matrix.shape[0]):
            start, end = indptr[row], indptr[row + 1]
            span = np.flatnonzero(ok[start:end]) + start
            if len(span) > TOP:
                span = span[np.argpartition(-data[span], TOP)[:TOP]]
            keep[span] = True
        counts = np.bincount(
            np.repeat(np.arange(matrix.shape[0]), np.diff(indptr))[keep], minlength=matrix.shape[0]
        )
        pointer = np.concatenate(([0], np.cumsum(counts)))
        return sparse.csr_matrix((data[keep], indices[keep], pointer), shape=matrix.shape)


_FIELDS = {field: n for n, field in enumerate(WEIGHTS)}
#: Candidate pairs for `pairs`: their TOP heaviest shared words give at least PARTIAL of the
#: score (set on the labelled pairs planted among 10,000 synthetic items: the lowest true
#: duplicate had 0.034; random pairs almost all below 0.02).
TOP = 10
PARTIAL = 0.03
EXACT_UP_TO = 5000
PARTNERS = 10


#: Items a candidate could meet on a paper: near-duplicates among them need to be enemies.
LIVE_STATUSES = ("in_review", "approved")


def live_items(facts: Mapping[str, Mapping[str, Any] | None]) -> list[str]:
    """The files of valid in-review and approved items, from the per-file facts."""
    return sorted(
        path
        for path, f in facts.items()
        if f is not None
        and f.get("kind") == "item"
        and f.get("valid")
        and f.get("status") in LIVE_STATUSES
    )


def duplicates_key(paths: list[str], blobs: Mapping[str, str]) -> str | None:
    """What duplicate findings depend on: these files' git blobs and this module's version
    (None if git cannot vouch for one of them, so nothing is reused)."""
    if any(p not in blobs for p in paths):
        return None
    digest = hashlib.sha256(f"{SIMILARITY_VERSION}\0{DEFAULT_THRESHOLD}\n".encode())
    for path in paths:
        digest.update(f"{path}\0{blobs[path]}\n".encode())
    return digest.hexdigest()


def duplicate_findings(
    items: Iterable[Mapping[str, Any]], threshold: float = DEFAULT_THRESHOLD
) -> list[Finding]:
    """A warning for each pair of in-review or approved items that look like the same question
    but are not each other's enemies (assembly keeps enemies off the same paper)."""
    live = {str(i.get("id")): i for i in items if i.get("status") in LIVE_STATUSES}
    out = []
    for first, second, score in SimilarityIndex(live.values()).pairs(threshold=threshold):
        a, b = sorted((first, second))  # said once, on the first id
        if any(_enemy(live[x], y) for x, y in ((a, b), (b, a))):
            continue
        out.append(
            warning(
                f"items/{a}.json",
                "/enemies",
                "near-duplicate",
                f"{a} is very like {b} (similarity {score:.2f}): "
                f"{_text(live[b].get('stem'))[:100]!r}. If they ask the same question, retire "
                f"one; if both stay, list each as the other's enemy so they are never on one "
                "paper.",
            )
        )
    return sorted(out)


def _enemy(item: Mapping[str, Any], other: str) -> bool:
    enemies = item.get("enemies")
    return isinstance(enemies, list) and other in enemies
