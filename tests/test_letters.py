"""The pure parts of issue 13's documents: composing a candidate's feedback (learning points by
standard, pending candidates get no letter), the letter's HTML (decision, parts, accessible
structure, DRAFT marking) and the employer's thematic report (suppression, deterministic chart),
and the item-text scan that every generated document must pass."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from itembank.results.employer_report import change_words, chart_svg, report_html
from itembank.results.feedback import (
    HOW_TO_READ,
    assessed_headings,
    compose,
    learning_for,
    pending,
)
from itembank.results.letters import DRAFT, letter_html, marks

from .conftest import SAMPLE_BANK
from .itemtext import bank_sentences, scan, sentences
from .letters_inputs import (
    LEARNING,
    STRONG,
    SUBSCORES,
    WEAK,
    WEAK_LAW,
    HandMade,
    adopted,
    cohort,
    decision,
)

TITLES = {"bank_title": "A bank", "form_title": "Knowledge assessment"}


class Outline(HTMLParser):
    """The headings, tags and text of a page, to check its structure."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[int] = []
        self.tags: list[str] = []
        self.lang = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "html":
            self.lang = dict(attrs).get("lang") or ""


def outline(page: bytes) -> Outline:
    parser = Outline()
    parser.feed(page.decode())
    return parser


def test_learning_points_are_those_of_the_points_standards_two_at_most_by_id() -> None:
    # PR-05: LP-0001 and LP-0002 serve it (LP-0002 also PR-06); the group law-and-decisions
    # covers PR-07 and PR-08: LP-0003 (PR-08) and LP-0004 (PR-07), by id
    assert [t.id for t in learning_for(("PR-05",), LEARNING)] == ["LP-0001", "LP-0002"]
    assert [t.id for t in learning_for(("PR-07", "PR-08"), LEARNING)] == ["LP-0003", "LP-0004"]
    assert [t.id for t in learning_for(("PR-07", "PR-08"), LEARNING, most=1)] == ["LP-0003"]
    assert learning_for(("PR-01",), LEARNING) == ()
    fb = compose(decision("C-1", 12, False, adopted()), (), (WEAK, WEAK_LAW), ("n",), LEARNING,
                 SUBSCORES)  # fmt: skip
    assert [[t.id for t in p.learning] for p in fb.development] == [
        ["LP-0001", "LP-0002"],
        ["LP-0003", "LP-0004"],
    ]
    assert fb.assessed == (
        "Abuse and neglect of children",
        "The law and decision-making",
        "Child development",
    )
    assert fb.how_to_read == "\n\n".join(HOW_TO_READ)
    assert fb.notes == ("n",)


def test_strengths_get_no_learning_and_a_point_of_one_statement_uses_its_own_id() -> None:
    lone = replace(WEAK, group="PR-06", title="Child and family assessment")
    fb = compose(decision("C-2", 20, True, adopted()), (STRONG,), (lone,), (), LEARNING, ())
    assert fb.strengths == (STRONG,) and fb.strengths[0].learning == ()
    assert [t.id for t in fb.development[0].learning] == ["LP-0002"]  # PR-05 and PR-06


def test_a_pending_candidate_gets_no_letter_and_is_listed() -> None:
    d = [decision(c, s, m, adopted()) for c, s, m, _ in cohort()]
    assert [x.candidate for x in pending(d)] == ["CAND-00003"]
    with pytest.raises(ValueError, match="pending"):
        compose(pending(d)[0], (), (), (), LEARNING, SUBSCORES)


def test_assessed_names_scenarios_by_number_with_their_standards_headings() -> None:
    heads = assessed_headings(SUBSCORES[:1], [["Relationships", "Communication"], []])
    assert heads == (
        "Abuse and neglect of children",
        "Simulated practice, scenario 1: Relationships; Communication",
        "Simulated practice, scenario 2",
    )


def _letter(score: float, met: bool | None, draft: bool = False) -> bytes:
    source = HandMade([("C-9", score, met, "E")])
    strengths, development, notes = source.points("f", None)["C-9"]
    fb = compose(decision("C-9", score, met, adopted()), strengths, development, notes,
                 LEARNING, SUBSCORES)  # fmt: skip
    return letter_html(fb, draft=draft, **TITLES)


def test_a_letter_says_the_decision_the_parts_and_the_points_never_a_grade() -> None:
    page = _letter(12, False).decode()
    assert "<h1>Your result: Not met</h1>" in page
    assert "You have not met the standard" in page
    assert "You scored 12 out of 30 marks; the pass mark, set by standard setting, was 18" in page
    assert "Scenario 1, criterion MC2: Not met" in page
    assert "Purposeful relationship-building" not in page  # criterion titles name the case
    assert "<h3>Abuse and neglect of children</h3>" in page
    assert "<strong>Recognising neglect over time</strong>" in page
    assert "Child development is reported with the other standards" in page
    text = re.sub(r"<style>.*?</style>", "", page, flags=re.DOTALL).lower()
    assert "it is not a grade" in text
    for word in ("distinction", "merit", "percentile", " rank", "%", "top "):
        assert word not in text
    high = _letter(29, True).decode()
    assert "<h1>Your result: Met</h1>" in high
    assert "gives no evidence of a specific development gap" in high  # far above: no gap
    assert "clearly above your own overall level" in high


def test_a_letter_is_accessible_in_structure() -> None:
    o = outline(_letter(12, False))
    assert o.lang == "en-GB"
    assert o.headings[0] == 1 and o.headings.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(o.headings, o.headings[1:], strict=False)), o.headings
    assert "table" not in o.tags and "script" not in o.tags and "img" not in o.tags
    assert "main" in o.tags


def test_a_draft_is_marked_on_every_page_and_the_released_letter_is_not() -> None:
    draft, final = _letter(20, True, draft=True).decode(), _letter(20, True).decode()
    assert DRAFT in draft and "@top-center" in draft and draft.count(DRAFT) == 2  # banner + margin box
    assert DRAFT not in final and "@top-center" not in final
    assert "<title>DRAFT: " in draft


def test_the_same_feedback_gives_the_same_bytes() -> None:
    assert _letter(20, True) == _letter(20, True)
    assert _letter(20, True) != _letter(21, True)


def test_marks_are_written_without_false_precision() -> None:
    assert [marks(17), marks(17.5), marks(17.46)] == ["17", "17.5", "17.5"]


# ---- employer reports -----------------------------------------------------------------------


def _report(employer: str) -> bytes:
    source = HandMade(cohort())
    met = {c: m for c, _, m, _ in cohort()}
    return report_html(source.employer(employer, "f", met, None), **TITLES)


def test_an_employer_report_suppresses_small_groups_and_gives_no_figure_for_them() -> None:
    page = _report("Saltmarsh Unitary Authority").decode()
    assert "11 of your staff were assessed; 4 met the standard." in page
    row = re.search(r'<tr><th scope="row">Child development</th>.*?</tr>', page).group(0)
    assert "fewer than 10 candidates" in row and "no figure" in row
    assert re.findall(r"[0-9]+%", row) == ["70%"]  # the national share only
    shown = re.search(r'<tr><th scope="row">Abuse and neglect.*?</tr>', page).group(0)
    assert ">11<" in shown and ">40%<" in shown and "down 5 percentage points" in shown
    small = _report("Northwold County Council").decode()
    assert "Fewer than 10 candidates of your staff were assessed" in small
    assert "3 of your staff" not in small and ">3<" not in small
    body = re.sub(r"<style>.*?</style>", "", small, flags=re.DOTALL)
    assert set(re.findall(r"[0-9]+%", body)) <= {"62%", "70%", "60%", "0%", "25%", "50%",
                                                 "75%", "100%"}  # fmt: skip


def test_a_met_count_of_none_or_all_is_not_given() -> None:
    source = HandMade(cohort())
    staff = [c for c, *_, e in cohort() if e == "Saltmarsh Unitary Authority"]
    for everyone in (True, False):
        report = source.employer("Saltmarsh Unitary Authority", "f",
                                 dict.fromkeys(staff, everyone), None)  # fmt: skip
        page = report_html(report, **TITLES).decode()
        assert "11 of your staff were assessed. How many met the standard is not given" in page
        assert "met the standard.</p>" not in page


def test_the_chart_is_deterministic_svg_with_text_and_no_date() -> None:
    source = HandMade(cohort())
    report = source.employer("Saltmarsh Unitary Authority", "f", {}, None)
    svg = chart_svg(report)
    assert svg.startswith("<svg ") and 'role="img"' in svg
    assert svg == chart_svg(report)
    assert "<dc:date>" not in svg and "fewer than 10 candidates" in svg
    assert _report("Saltmarsh Unitary Authority") == _report("Saltmarsh Unitary Authority")


def test_change_is_said_in_percentage_points() -> None:
    assert [change_words(x) for x in (None, 0.001, 0.05, -0.01)] == [
        "not available", "no change", "up 5 percentage points", "down 1 percentage point"
    ]  # fmt: skip


# ---- the item-text scan ---------------------------------------------------------------------


def test_the_scan_finds_a_planted_stem_and_nothing_in_real_letters_and_reports() -> None:
    live = bank_sentences(SAMPLE_BANK)
    assert len(live) > 500
    stem = next(s for s in sorted(live) if len(s.split()) > 10)
    source = HandMade(cohort())
    docs = {}
    for cand, score, met, _ in cohort():
        if met is None:
            continue
        strengths, development, notes = source.points("f", None)[cand]
        fb = compose(decision(cand, score, met, adopted()), strengths, development, notes,
                     LEARNING, SUBSCORES)  # fmt: skip
        docs[f"{cand}.html"] = letter_html(fb, **TITLES)
    docs["r.html"] = _report("Saltmarsh Unitary Authority")
    assert scan(docs, live) == []
    # a stem slipped into a learning point (reformatted: capitals, a line break) is found
    planted = replace(LEARNING[3], text=stem.upper().replace(" ", "\n", 3))
    fb = compose(decision("C-1", 12, False, adopted()), (), (WEAK,), (), (planted,), SUBSCORES)
    assert scan({"planted.html": letter_html(fb, **TITLES)}, live) == [("planted.html", stem)]


def test_sentences_are_normalised_and_short_ones_ignored() -> None:
    assert sentences("A *short* one. The **local authority** must offer a family meeting!") == {
        "the local authority must offer a family meeting"
    }


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_every_text_colour_has_aaa_contrast_on_white() -> None:
    from itembank.results import employer_report, letters

    css = letters.PAGE + letters.STYLE + letters._DRAFT_BOX + employer_report.STYLE
    colours = set(re.findall(r"(?<![-\w])color:\s*#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b", css))
    assert colours == {"000", "a40000"}
    for c in colours:
        full = "".join(ch * 2 for ch in c) if len(c) == 3 else c
        ratio = (1.0 + 0.05) / (_luminance(full) + 0.05)
        assert ratio >= 7.0, (c, ratio)  # WCAG AAA for normal text
