"""Item-writing checks: the flaws item-writing guides warn about (cueing, negatives, absolutes,
'all of the above', hard reading), as warnings with the pointer of the field concerned."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from itembank.core.findings import Finding, pointer, warning

_ALL_NONE = re.compile(r"\b(all|none|both|neither) of the (above|options|answers)\b", re.I)
_NEGATIVE = re.compile(r"\b(not|except|least|incorrect|untrue|false)\b", re.I)
#: Absolute words: test-wise candidates rule out options that use them (also the cue audit's).
ABSOLUTE_WORDS = re.compile(
    r"\b(always|never|every|none|completely|entirely|absolutely|"
    r"under no circumstances|in all cases)\b",
    re.I,
)
_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1|(\*|_)(.+?)\3")
_WORD = re.compile(r"[A-Za-z']+")
_SENTENCE = re.compile(r"[.!?]+(\s|$)")

#: A stem whose Flesch-Kincaid grade is above this is flagged as hard to read.
MAX_GRADE = 16.0
#: The key is flagged when it is this many times longer than the mean distractor (and longer
#: than every distractor) ...
KEY_LENGTH_RATIO = 1.5
#: ... or when it is clearly longer than EVERY distractor: at least this many times the longest
#: distractor AND at least KEY_LENGTH_MARGIN characters longer (the ratio alone would flag
#: short options such as "Six" against "Two"; the margin alone, long options that differ by a
#: clause). A key 1.2x and 15 characters past the longest distractor is the one a test-wise
#: candidate picks; the cue audit (checks/cues.py) counts the subtler bank-wide habit.
KEY_LONGEST_RATIO = 1.2
KEY_LENGTH_MARGIN = 15


def lint_item(path: str, item: Mapping[str, Any]) -> list[Finding]:
    """Every item-writing warning for one item (which need not be valid yet)."""
    return list(_lint(path, item))


def _lint(path: str, item: Mapping[str, Any]) -> Iterator[Finding]:
    options = [o for o in item.get("options", []) or [] if isinstance(o, Mapping)]
    stem = str(item.get("stem")) if isinstance(item.get("stem"), str) else ""
    fmt = item.get("format")
    for i, option in enumerate(options):
        text = str(option.get("text", ""))
        if _ALL_NONE.search(text):
            yield warning(
                path,
                pointer("options", i, "text"),
                "all-none-of-above",
                "Avoid 'all/none of the above': it rewards partial knowledge. "
                "Write a distractor that stands on its own.",
            )
        match = ABSOLUTE_WORDS.search(text)
        if match and fmt in ("single_best_answer", "multiple_response"):
            yield warning(
                path,
                pointer("options", i, "text"),
                "absolute-word",
                f"'{match.group(0)}' is an absolute word: test-wise candidates rule "
                "such options out. Qualify it or rephrase.",
            )
    if fmt in ("single_best_answer", "multiple_response") and stem:
        for match in _NEGATIVE.finditer(stem):
            if not _emphasised(stem, match.start(), match.end()) and not match.group(0).isupper():
                yield warning(
                    path,
                    "/stem",
                    "negative-stem",
                    f"The stem uses the negative '{match.group(0)}' without "
                    "emphasis. Put it in bold (**not**) or rephrase positively.",
                )
                break
    yield from _key_length(path, item, options)
    grade = reading_grade(stem)
    if grade is not None and grade > MAX_GRADE:
        yield warning(
            path,
            "/stem",
            "reading-level",
            f"The stem reads at grade {grade:.0f} (Flesch-Kincaid): shorter "
            "sentences and plainer words test the standard, not reading stamina.",
        )


def _emphasised(text: str, start: int, end: int) -> bool:
    return any(m.start() <= start and end <= m.end() for m in _EMPHASIS.finditer(text))


def _key_length(
    path: str, item: Mapping[str, Any], options: list[Mapping[str, Any]]
) -> Iterator[Finding]:
    key = item.get("key")
    if item.get("format") not in ("single_best_answer", "multiple_response"):
        return
    if not isinstance(key, list) or not key:
        return
    keyed = [len(str(o.get("text", ""))) for o in options if o.get("id") in key]
    others = [len(str(o.get("text", ""))) for o in options if o.get("id") not in key]
    if not keyed or not others:
        return
    mean_key, mean_other = sum(keyed) / len(keyed), sum(others) / len(others)
    shortest_key, longest_other = min(keyed), max(others)
    above_mean = mean_key > KEY_LENGTH_RATIO * mean_other and shortest_key > longest_other
    above_every = (
        shortest_key >= KEY_LONGEST_RATIO * longest_other
        and shortest_key - longest_other >= KEY_LENGTH_MARGIN
    )
    if above_mean or above_every:
        index = next(i for i, o in enumerate(options) if o.get("id") in key)
        yield warning(
            path,
            pointer("options", index, "text"),
            "key-longer",
            f"The key is longer than every distractor ({shortest_key} characters against at "
            f"most {longest_other}; {mean_other:.0f} on average): length cues the answer. "
            "Make a distractor as specific as the key, or the key as tight as the distractors.",
        )


def _syllables(word: str) -> int:
    word = word.lower().strip("'")
    groups = re.findall(r"[aeiouy]+", word)
    count = len(groups) - (1 if word.endswith("e") and len(groups) > 1 else 0)
    return max(1, count)


def reading_grade(text: str) -> float | None:
    """Flesch-Kincaid grade level of a text, or None for text too short to judge (< 20 words)."""
    words = _WORD.findall(text)
    if len(words) < 20:
        return None
    sentences = max(1, len(_SENTENCE.findall(text)))
    syllables = sum(_syllables(w) for w in words)
    return 0.39 * len(words) / sentences + 11.8 * syllables / len(words) - 15.59
