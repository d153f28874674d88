"""Candidate instructions written from the questions actually on a paper: one line per format
present (with the questions it covers, the way to mark an answer and how it is scored), one per
case, and nothing about a format the paper does not use, so a true/false grid never appears
unannounced and a paper without grids says nothing about them. Plain sentences; each renderer
escapes them. The wording follows `forms.scoring`, which is how every paper is marked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

Record = dict[str, Any]
#: How the candidate answers: ticking a printed paper, selecting on screen, or typing letters.
Medium = Literal["paper", "screen", "text"]

WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")

#: (how to choose one option, how to choose k options, how to mark a statement) per medium
_MARK = {
    "paper": ("tick the box of one option", "tick the boxes of", "tick True or False"),
    "screen": ("select one option", "select", "select True or False"),
    "text": ("write the letter of one option", "write the letters of", "write True or False"),
}


def numbered(manifest: Mapping[str, Any]) -> list[tuple[int, Record, Record]]:
    """(question number, section, manifest entry) in the order the paper shows them."""
    out = []
    n = 0
    for section in manifest["sections"]:
        for entry in section["items"]:
            n += 1
            out.append((n, section, entry))
    return out


def word(n: int) -> str:
    """Small counts in words, as a candidate reads them ('three'); digits beyond ten."""
    return WORDS[n] if 0 <= n < len(WORDS) else str(n)


def questions(numbers: Sequence[int]) -> str:
    """'Question 7', 'Questions 1 to 4, 7, 8 and 19 to 25': runs of three or more as 'a to b',
    the way the blueprints write them."""
    runs: list[list[int]] = []
    for n in sorted(set(numbers)):
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    parts: list[str] = []
    for a, b in runs:
        parts += [str(a)] if a == b else [str(a), str(b)] if b == a + 1 else [f"{a} to {b}"]
    if len(parts) == 1 and len(runs) == 1 and runs[0][0] == runs[0][1]:
        return f"Question {parts[0]}"
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"Questions {text}"


def answer_rules(
    manifest: Mapping[str, Any],
    items: Mapping[str, Mapping[str, Any]],
    stimuli: Mapping[str, Mapping[str, Any]],
    medium: Medium = "paper",
) -> list[str]:
    """One instruction per format (and scoring rule) on the paper and one per case, in the
    order a candidate meets them."""
    one, several, statement = _MARK[medium]
    groups: dict[tuple[str, int, str], list[int]] = {}
    pairs: set[str] = set()
    cases: list[tuple[str, list[int]]] = []
    for n, section, entry in numbered(manifest):
        item = items[entry["id"]]
        fmt, rule = str(item["format"]), str(item["scoring"]["rule"])
        count = int(item.get("select_count", 0)) if fmt == "multiple_response" else 0
        groups.setdefault((fmt, count, rule), []).append(n)
        if fmt == "true_false":
            texts = {str(o["id"]): str(o["text"]).strip() for o in item["options"]}
            pairs.add(" or ".join(texts[i] for i in entry["option_order"]))
        if section.get("stimulus"):
            if not cases or cases[-1][0] != section["stimulus"]:
                cases.append((str(section["stimulus"]), []))
            cases[-1][1].append(n)
    lines = []
    for (fmt, count, rule), numbers in sorted(groups.items(), key=lambda g: min(g[1])):
        which = questions(numbers)
        if fmt == "single_best_answer":
            lines.append(
                f"{which}: choose the one best answer; {one}. "
                "Choosing more than one option scores no marks."
            )
        elif fmt == "true_false":
            lines.append(
                f"{which}: each gives two options ({'; '.join(sorted(pairs))}); {one}. "
                "Choosing both scores no marks."
            )
        elif fmt == "multiple_response":
            k = word(count)
            scored = (
                "each correct answer you choose earns an equal share of the question's marks"
                if rule == "partial_credit"
                else f"the marks are earned only by choosing exactly the {k} correct answers"
            )
            lines.append(
                f"{which}: choose {k} answers; {several} {k} options. Here {scored}; "
                f"choosing more than {k} options scores no marks for the question."
            )
        elif fmt == "multiple_true_false":
            scored = (
                "Each statement marked correctly earns an equal share of the question's marks; "
                "a statement left blank or marked both True and False earns nothing."
                if rule == "partial_credit"
                else "The marks are earned only if every statement is marked correctly; "
                "a statement left blank or marked both True and False is wrong."
            )
            grid = (
                "a grid of statements, each with a True box and a False box"
                if medium == "paper"
                else "a list of statements, each to be marked True or False"
            )
            lines.append(f"{which}: {grid}. For each statement, {statement}, not both. {scored}")
    for ident, numbers in cases:
        title = str(stimuli[ident]["title"]) if ident in stimuli else ident
        lines.append(
            f"{questions(numbers)} are about one case ({title}), printed before question "
            f"{numbers[0]}: read the case first, then answer the questions on it."
        )
    return lines


__all__ = ["Medium", "answer_rules", "numbered", "questions", "word"]
