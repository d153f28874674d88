"""Learning points (learning_points/<ID>.json): the short, reviewed development suggestions
candidate letters quote. Their own rules (a length a candidate reads, 40-250 words), the facts
the bank-wide rules use, and the rule that keeps live item content out of every letter: no run
of SHARED_WORDS words may be shared with the prose of any item, case or scenario in the bank.

The words are compared as the near-duplicate check reads them (similarity.words: case,
punctuation, Markdown emphasis and number words do not hide a copied passage), and the prose
as the currency check walks it (currency.prose: stems, options, rationales, case text, briefs;
never ids or metadata). Pure: records in, findings out."""

from __future__ import annotations

import array
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from itembank.checks.currency import prose
from itembank.core.findings import Finding, error
from itembank.core.workflow import content_hash

#: The text's length in words (a letter quotes several: short, but enough to be specific).
MIN_WORDS, MAX_WORDS = 40, 250
#: A run of this many words shared with live content is a copied sentence (or most of one).
SHARED_WORDS = 8
#: The kinds whose prose candidates meet on a paper or in a simulation.
LIVE_KINDS = ("item", "stimulus", "scenario")
_COUNTED = re.compile(r"[A-Za-z0-9]+(?:['’.-][A-Za-z0-9]+)*")


def word_count(text: str) -> int:
    """Words as a reader counts them ("child's", "s.47" and "well-being" are one each)."""
    return len(_COUNTED.findall(text))


def learning_point_rules(path: str, record: dict[str, Any]) -> Iterator[Finding]:
    """The text is 40-250 words: long enough to be specific, short enough for a letter."""
    count = word_count(record["text"])
    if not MIN_WORDS <= count <= MAX_WORDS:
        fix = (
            "say what to revisit, practise or discuss, and where"
            if count < MIN_WORDS
            else "keep the one most useful suggestion and cut the rest"
        )
        yield error(
            path,
            "/text",
            "text-length",
            f"The text has {count} words; a learning point has {MIN_WORDS} to {MAX_WORDS} "
            f"words: {fix}.",
        )


def learning_point_facts(r: dict[str, Any]) -> dict[str, Any]:
    """What the bank-wide rules need: the workflow, links and role facts content has."""
    return {
        "status": r["status"],
        "author": r["author"],
        "refs": r["references"],
        "std": [[m["framework"], m["statement"]] for m in r["standards"]],
        "std_primary": [bool(m.get("primary")) for m in r["standards"]],
        "roles": r["roles"],
        "hash": content_hash("learning_point", r),
    }


class _Names:
    """Names of law and guidance (the reference catalogue's titles) as one word each: citing
    'Working Together to Safeguard Children 2023' is naming a source, not copying an item."""

    def __init__(self, names: Iterable[str]) -> None:
        # similarity (numpy, scipy) is loaded when a learning point is compared, not when
        # validation starts: a command that checks none starts faster
        from itembank.checks.similarity import words

        self.words_of = words
        self.by_first: dict[str, list[list[str]]] = {}
        for name in names:
            parts = words(name)
            if len(parts) > 1:
                self.by_first.setdefault(parts[0], []).append(parts)
        for found in self.by_first.values():
            found.sort(key=len, reverse=True)

    def words(self, text: str) -> list[str]:
        found = self.words_of(text)
        if self.by_first.keys().isdisjoint(found):  # most texts name nothing: no Python loop
            return found
        out, i = [], 0
        while i < len(found):
            for name in self.by_first.get(found[i], ()):
                if found[i : i + len(name)] == name:
                    out.append(" ".join(name))
                    i += len(name)
                    break
            else:
                out.append(found[i])
                i += 1
        return out


class LiveText:
    """The prose of the live records (items, cases, scenarios) as one array of word numbers,
    built once (the Bank keeps it until the next save) and searched for each learning point.

    A search marks the words some learning point uses (numpy), keeps the stretches of SHARED_WORDS
    or more such words in a row (few: most of an item's text is not in any learning point) and
    looks only their runs up. So a writer's live check of one learning point against 50,000
    items costs a fraction of a second once the index is built (benchmarks in the report)."""

    def __init__(self, live: Iterable[tuple[str, Mapping[str, Any]]], names: Iterable[str] = ()):
        self.names = _Names(names)
        self._numbers: dict[str, int] = {}
        self._where: list[tuple[str, str]] = []  # (record id, pointer) of each text
        tokens, starts = array.array("i"), array.array("q")
        for kind, record in live:
            if kind not in LIVE_KINDS:
                continue
            ident = str(record.get("id", ""))
            for where, text in prose(record):
                starts.append(len(tokens))
                self._where.append((ident, where))
                number = self._numbers.setdefault
                tokens.extend([number(w, len(self._numbers)) for w in self.names.words(text)])
                tokens.append(-1)  # never a word: no run crosses from one text to the next
        self._words = list(self._numbers)
        import numpy as np

        self._tokens = np.frombuffer(tokens, dtype=np.int32) if tokens else np.zeros(0, np.int32)
        self._starts = np.frombuffer(starts, dtype=np.int64) if starts else np.zeros(0, np.int64)

    def findings(
        self, points: Mapping[str, Mapping[str, Any]], size: int = SHARED_WORDS
    ) -> list[Finding]:
        """An error on each learning point (path -> record) for each live record it shares a
        run of `size` words with: one per field of the learning point and live record, quoting
        the longest shared run."""
        index: dict[tuple[str, ...], list[tuple[str, str, int]]] = {}
        texts: dict[tuple[str, str], list[str]] = {}
        for path, record in points.items():
            for field in ("title", "text"):
                value = record.get(field)
                if not isinstance(value, str):
                    continue
                found = texts[(path, field)] = self.names.words(value)
                for i in range(len(found) - size + 1):
                    index.setdefault(tuple(found[i : i + size]), []).append((path, field, i))
        used = [self._numbers[w] for key in index for w in key if w in self._numbers]
        if not index or not len(self._tokens):
            return []
        import numpy as np

        marked = np.concatenate(([False], np.isin(self._tokens, np.unique(used)), [False]))
        edges = np.flatnonzero(np.diff(marked.astype(np.int8)))
        begins, ends = edges[::2], edges[1::2]
        long = ends - begins >= size
        hits: dict[tuple[str, str, str], tuple[str, set[int]]] = {}
        for begin, end in zip(begins[long].tolist(), ends[long].tolist(), strict=True):
            ident, where = self._where[int(np.searchsorted(self._starts, begin, "right")) - 1]
            found = [self._words[n] for n in self._tokens[begin:end].tolist()]
            for i in range(len(found) - size + 1):
                for path, field, at in index.get(tuple(found[i : i + size]), ()):
                    hits.setdefault((path, field, ident), (where, set()))[1].add(at)
        out = []
        for (path, field, ident), (where, starts) in sorted(hits.items()):
            start, length = _longest_run(sorted(starts))
            passage = " ".join(texts[(path, field)][start : start + length + size - 1])
            out.append(
                error(
                    path,
                    f"/{field}",
                    "item-text",
                    f'Shares {len(passage.split())} words with {ident} ({where}): "{passage}" '
                    "(compared without case or punctuation). Letters quote learning points to "
                    "candidates, so they must never contain live item content: rewrite this in "
                    "your own words, as advice, not as the question or its answer.",
                )
            )
        return out


def shared_item_text(
    points: Mapping[str, Mapping[str, Any]],
    live: Iterable[tuple[str, Mapping[str, Any]]],
    names: Iterable[str] = (),
    size: int = SHARED_WORDS,
) -> list[Finding]:
    """LiveText(live, names).findings(points, size): learning points (path -> record) that share
    a run of `size` words with live records ((kind, record): items, cases, scenarios); `names`
    (the reference catalogue's titles) count as one word each."""
    return LiveText(live, names).findings(points, size)


def _longest_run(starts: list[int]) -> tuple[int, int]:
    """(first, count) of the longest run of consecutive positions (the earliest if tied)."""
    best = (starts[0], 1)
    first, count = starts[0], 1
    for previous, here in itertools.pairwise(starts):
        if here == previous + 1:
            count += 1
        else:
            first, count = here, 1
        if count > best[1]:
            best = (first, count)
    return best
