"""The cue audit: how often the bank's keys can be found without knowing the answer.

Test-wise candidates pick the longest option, the option that agrees with the stem's grammar,
the option that repeats a stem word, and they rule out options with absolute words; with a
fixed option order they learn the favourite position. One item with such a cue is a flaw the
per-item lint may miss; a bank where the cue points to the key more often than chance teaches
candidates a rule. So each cue is counted across items and set against its chance value.

Chance is exact and per item: of all the ways to choose the item's number of keys among its
options, the share that would show the cue (for a single best answer among 4 options of
different lengths, "the key is the longest" has chance 1/4). Items where the cue could not
occur (chance 0) or must occur (chance 1) are left out. The count of items showing the cue is
then a sum of independent Bernoulli trials with those chances (Poisson-binomial); the p-value
is the exact one-sided probability of at least that count (scipy's binomtest when every chance
is equal). Pure: item records in, rates out.

Formats: single_best_answer and multiple_response get every option cue (the longest option
for single keys, the keyed options' mean length against the distractors' for several keys).
true_false has only True/False (or Yes/No): no length, grammar or word cues can exist, so only
the key position of fixed-order items is audited (is "True" keyed more than half the time?).
For true_false stems and multiple_true_false statements the cue is an absolute word (always,
never, ...) in a statement keyed false, against the scope's overall share of false statements.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from itembank.checks.lint import ABSOLUTE_WORDS

#: A rate is significantly above chance when its one-sided p-value is at most this.
ALPHA = 0.05
OPTION_FORMATS = ("single_best_answer", "multiple_response")
_WORD = re.compile(r"[a-z][a-z'-]+")
#: Words too common to cue anything when a stem and an option share them.
_STOP = frozenset(
    re.findall(
        r"[a-z]+",
        "about above after again against also among another anyone because been before being "
        "below best between both cannot could describes does doing during each either every "
        "following from further have having here into itself just likely more most must need "
        "needs neither only other ought over same should some statement such than that their them "
        "then there these they this those through under until very what when where which while "
        "whom whose will with within without would your yours ",
    )
)
_SINGULAR = frozenset({"a", "an", "is", "was", "one", "this", "that", "each", "every"})
_PLURAL = frozenset({"are", "were", "these", "those", "two", "three", "four", "several", "both"})


@dataclass(frozen=True)
class Cue:
    """One cue the audit counts: its code, plain-words title and the formats it applies to."""

    code: str
    title: str
    formats: tuple[str, ...]


CUES: tuple[Cue, ...] = (
    Cue("key-longest", "the key is the longest option", ("single_best_answer",)),
    Cue(
        "keys-longer",
        "the keyed options are longer on average than the distractors",
        ("multiple_response",),
    ),
    Cue("article-agreement", "only keyed options agree with the stem's a/an", OPTION_FORMATS),
    Cue(
        "number-agreement",
        "only keyed options agree with the stem's singular/plural",
        OPTION_FORMATS,
    ),
    Cue(
        "stem-word-in-key",
        "a stem word is repeated in the key and in no distractor",
        OPTION_FORMATS,
    ),
    Cue(
        "absolute-in-distractor",
        "absolute words (always, never, ...) appear only in distractors",
        OPTION_FORMATS,
    ),
    Cue(
        "absolute-statement-false",
        "a true/false statement with an absolute word is keyed false",
        ("true_false", "multiple_true_false"),
    ),
)


@dataclass(frozen=True)
class Rate:
    """One cue in one scope (the bank or a writer): how many items showed it (hits) out of the
    items where it could go either way, against the number chance predicts (expected)."""

    cue: str
    title: str
    scope: str
    items: int
    hits: int
    expected: float
    p_value: float
    hit_ids: tuple[str, ...] = field(default=())
    detail: str = ""

    @property
    def rate(self) -> float:
        return self.hits / self.items if self.items else 0.0

    @property
    def chance(self) -> float:
        return self.expected / self.items if self.items else 0.0

    @property
    def significant(self) -> bool:
        return self.items > 0 and self.p_value <= ALPHA

    def to_dict(self) -> dict[str, Any]:
        return {
            "cue": self.cue,
            "title": self.title,
            "scope": self.scope,
            "items": self.items,
            "hits": self.hits,
            "rate": round(self.rate, 4),
            "expected": round(self.expected, 4),
            "chance": round(self.chance, 4),
            "p_value": self.p_value,
            "significant": self.significant,
            "hit_ids": list(self.hit_ids),
            "detail": self.detail,
        }


# ---- statistics -------------------------------------------------------------------------------


def poisson_binomial_sf(hits: int, chances: Sequence[float]) -> float:
    """P(X >= hits) for X the number of successes in independent trials with these chances:
    exact, by the convolution recurrence (binomtest when all chances are equal)."""
    if hits <= 0:
        return 1.0
    if hits > len(chances):
        return 0.0
    if len(set(chances)) == 1:
        from scipy.stats import binomtest

        return float(binomtest(hits, len(chances), chances[0], alternative="greater").pvalue)
    import numpy as np

    dist = np.zeros(len(chances) + 1)
    dist[0] = 1.0
    for n, p in enumerate(chances, start=1):  # O(n^2), vectorised: 10,000 items in well under 1 s
        dist[1 : n + 1] = dist[1 : n + 1] * (1 - p) + dist[:n] * p
        dist[0] *= 1 - p
    return float(min(1.0, max(0.0, dist[hits:].sum())))


# ---- per item: does a keying show the cue? ----------------------------------------------------


def _plain(text: object) -> str:
    return re.sub(r"[*_`>#\[\]()]", "", str(text or "")).strip()


def _words(text: str) -> set[str]:
    out = set()
    for w in _WORD.findall(text.lower()):
        if len(w) >= 4 and w not in _STOP:
            out.add(w[:-1] if w.endswith("s") and not w.endswith("ss") else w)
    return out


def _last_word(stem: str) -> str:
    words = _WORD.findall(stem.lower().rstrip())
    return words[-1] if words and not stem.rstrip().endswith(("?", ".")) else ""


def _vowel_led(text: str) -> bool:
    first = _WORD.findall(text.lower())
    return bool(first) and first[0][0] in "aeiou"


def _plural(text: str) -> bool | None:
    """A short noun-phrase option's number from its last word; None when it cannot be told."""
    words: list[str] = _WORD.findall(text.lower())
    if not words or len(words) > 6:
        return None
    last = words[-1]
    if last.endswith(("ss", "us", "is", "'s")):
        return False
    return last.endswith("s")


Keying = frozenset[int]
Predicate = Callable[[Keying], bool]


def _predicate(code: str, stem: str, texts: list[str]) -> Predicate | None:
    """Whether a keying (the option indexes keyed) shows the cue, for one item's texts."""
    n = len(texts)
    lengths = [len(t) for t in texts]
    if code == "key-longest":
        return lambda k: max(lengths[i] for i in k) == max(lengths)
    if code == "keys-longer":

        def longer(k: Keying) -> bool:
            rest = [lengths[i] for i in range(n) if i not in k]
            return bool(rest) and sum(lengths[i] for i in k) / len(k) > sum(rest) / len(rest)

        return longer
    if code == "article-agreement":
        article = _last_word(stem)
        if article not in ("a", "an"):
            return None
        agrees = [_vowel_led(t) == (article == "an") for t in texts]
        return _only_keyed(agrees)
    if code == "number-agreement":
        marker = _last_word(stem)
        if marker not in _SINGULAR and marker not in _PLURAL:
            return None
        want_plural = marker in _PLURAL
        agrees = [_plural(t) in (None, want_plural) for t in texts]
        return _only_keyed(agrees)
    if code == "stem-word-in-key":
        stem_words = _words(stem)
        shared = [_words(t) & stem_words for t in texts]
        # a word shows the cue when every option holding it is keyed
        holders = {
            w: frozenset(i for i in range(n) if w in shared[i]) for w in set().union(*shared)
        }
        return lambda k: any(h <= k for h in holders.values())
    if code == "absolute-in-distractor":
        absolute = [bool(ABSOLUTE_WORDS.search(t)) for t in texts]
        return lambda k: (
            not any(absolute[i] for i in k) and any(absolute[i] for i in range(n) if i not in k)
        )
    return None


def _only_keyed(agrees: list[bool]) -> Predicate:
    """The cue shows when every keyed option agrees and some distractor does not."""
    n = len(agrees)
    return lambda k: (
        all(agrees[i] for i in k) and any(not agrees[i] for i in range(n) if i not in k)
    )


def item_trial(code: str, item: Mapping[str, Any]) -> tuple[bool, float] | None:
    """(shows the cue, chance it would under a random keying) for one option-format item, or
    None when the cue cannot go either way for it."""
    options = [o for o in item.get("options") or [] if isinstance(o, Mapping)]
    key = item.get("key")
    if not isinstance(key, list) or not options:
        return None
    ids = [o.get("id") for o in options]
    keyed = frozenset(i for i, x in enumerate(ids) if x in key)
    if not keyed or len(keyed) >= len(options):
        return None
    predicate = _predicate(code, _plain(item.get("stem")), [_plain(o.get("text")) for o in options])
    if predicate is None:
        return None
    keyings = [frozenset(c) for c in combinations(range(len(options)), len(keyed))]
    chance = sum(predicate(k) for k in keyings) / len(keyings)
    if chance in (0.0, 1.0):
        return None
    return predicate(keyed), chance


# ---- rates over a scope -----------------------------------------------------------------------


def _rate(cue: Cue, scope: str, trials: list[tuple[str, bool, float]], detail: str = "") -> Rate:
    chances = [c for _, _, c in trials]
    hits = [ident for ident, hit, _ in trials if hit]
    return Rate(
        cue=cue.code,
        title=cue.title,
        scope=scope,
        items=len(trials),
        hits=len(hits),
        expected=sum(chances),
        p_value=poisson_binomial_sf(len(hits), chances) if trials else 1.0,
        hit_ids=tuple(hits),
        detail=detail,
    )


def _mean_lengths(items: Iterable[Mapping[str, Any]]) -> str:
    keyed: list[int] = []
    other: list[int] = []
    for item in items:
        key = item.get("key") or []
        for o in item.get("options") or []:
            (keyed if o.get("id") in key else other).append(len(_plain(o.get("text"))))
    if not keyed or not other:
        return ""
    return (
        f"keyed options {sum(keyed) / len(keyed):.0f} characters on average, "
        f"distractors {sum(other) / len(other):.0f}"
    )


def _statements(item: Mapping[str, Any]) -> list[tuple[str, bool]]:
    """(statement text, keyed true) for a true_false item's stem or each MTF statement."""
    key = item.get("key")
    if item.get("format") == "true_false" and isinstance(key, list):
        options = [o for o in item.get("options") or [] if isinstance(o, Mapping)]
        if len(options) == 2 and key:
            first = _plain(options[0].get("text")).lower() in ("true", "yes")
            keyed_first = key[0] == options[0].get("id")
            return [(_plain(item.get("stem")), keyed_first == first)]
    if item.get("format") == "multiple_true_false" and isinstance(key, Mapping):
        return [
            (_plain(o.get("text")), bool(key[o.get("id")]))
            for o in item.get("options") or []
            if isinstance(o, Mapping) and o.get("id") in key
        ]
    return []


def _position_rates(scope: str, items: list[Mapping[str, Any]]) -> list[Rate]:
    """Fixed-order items: one rate per position, the key there against keys/options."""
    by_position: dict[int, list[tuple[str, bool, float]]] = defaultdict(list)
    for item in items:
        key = item.get("key")
        options = [o for o in item.get("options") or [] if isinstance(o, Mapping)]
        if not item.get("fixed_order") or not isinstance(key, list) or len(options) < 2:
            continue
        chance = len(key) / len(options)
        if not 0 < chance < 1:
            continue
        for pos, option in enumerate(options):
            by_position[pos].append((str(item.get("id")), option.get("id") in key, chance))
    rates = []
    for pos in sorted(by_position):
        letter = chr(ord("A") + pos)
        cue = Cue(
            f"key-position-{pos + 1}",
            f"fixed order: the key is option {pos + 1} ({letter}; for true/false, the first: "
            "True or Yes)"
            if pos == 0
            else f"fixed order: the key is option {pos + 1} ({letter})",
            (),
        )
        rates.append(_rate(cue, scope, by_position[pos]))
    return rates


def scope_rates(
    scope: str,
    items: list[Mapping[str, Any]],
    cache: dict[tuple[int, str], tuple[bool, float] | None] | None = None,
) -> list[Rate]:
    """Every cue's rate over these items (one scope: the bank or one writer); `cache` keeps
    each item's trials so that the writers' scopes do not enumerate keyings again."""
    cache = {} if cache is None else cache
    rates = []
    for cue in CUES:
        if cue.code == "absolute-statement-false":
            statements = [(str(i.get("id")), s) for i in items for s in _statements(i)]
            if not statements:
                rates.append(_rate(cue, scope, []))
                continue
            base = sum(not true for _, (_, true) in statements) / len(statements)
            trials = [
                (ident, not true, base)
                for ident, (text, true) in statements
                if ABSOLUTE_WORDS.search(text) and 0 < base < 1
            ]
            rates.append(_rate(cue, scope, trials, f"{base:.0%} of all statements are false"))
            continue
        trials = []
        relevant = [i for i in items if i.get("format") in cue.formats]
        for item in relevant:
            slot = (id(item), cue.code)
            if slot not in cache:
                cache[slot] = item_trial(cue.code, item)
            result = cache[slot]
            if result is not None:
                trials.append((str(item.get("id")), result[0], result[1]))
        detail = _mean_lengths(relevant) if cue.code == "keys-longer" else ""
        rates.append(_rate(cue, scope, trials, detail))
    rates.extend(_position_rates(scope, items))
    return rates


#: Statuses whose items can reach a candidate, now or after review.
AUDITED_STATUSES = frozenset({"draft", "in_review", "changes_requested", "approved"})


@dataclass(frozen=True)
class Audit:
    """The cue rates of a bank, and per writer when asked for."""

    items: int
    rates: tuple[Rate, ...]

    @property
    def significant(self) -> list[Rate]:
        return [r for r in self.rates if r.significant]

    def to_dict(self) -> dict[str, Any]:
        return {
            "alpha": ALPHA,
            "items": self.items,
            "significant": len(self.significant),
            "rates": [r.to_dict() for r in self.rates],
        }


def audit(items: Iterable[Mapping[str, Any]], by_writer: bool = False) -> Audit:
    """The cue audit of every item that is not retired or rejected: the bank's rates, then
    (by_writer) each writer's, writers in name order."""
    live = [i for i in items if i.get("status") in AUDITED_STATUSES]
    cache: dict[tuple[int, str], tuple[bool, float] | None] = {}
    rates = scope_rates("bank", live, cache)
    if by_writer:
        writers: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for item in live:
            writers[str(item.get("author", "")).split("<")[0].strip() or "(no author)"].append(item)
        for name in sorted(writers):
            rates.extend(r for r in scope_rates(name, writers[name], cache) if r.items)
    return Audit(items=len(live), rates=tuple(rates))


def audit_text(result: Audit) -> str:
    """The rates as a table: scope, cue, items, hits, rate, chance, p (! when significant)."""
    lines = [
        f"{'scope':<18} {'cue':<26} {'items':>5} {'hits':>4} {'rate':>6} {'chance':>6} {'p':>7}"
    ]
    for r in result.rates:
        flag = "  ! above chance" if r.significant else ""
        lines.append(
            f"{r.scope[:18]:<18} {r.cue:<26} {r.items:>5} {r.hits:>4} {r.rate:>6.2f} "
            f"{r.chance:>6.2f} {r.p_value:>7.4f}{flag}"
        )
        if r.detail:
            lines.append(f"{'':<18} ({r.detail})")
    bad = result.significant
    lines.append(
        f"{result.items} items audited; "
        + (
            f"{len(bad)} rate(s) significantly above chance (p <= {ALPHA}): rewrite options so "
            "the cue no longer points to the key (see hit items with --format json)."
            if bad
            else f"no cue is significantly above chance (every p > {ALPHA})."
        )
    )
    return "\n".join(lines)
