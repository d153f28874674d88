"""Papers a candidate and an invigilator can use (issue 11): instructions written from the formats
actually on the paper, the large-print adjustment (18 pt and over, one question per page, black
on white), the accessible HTML and plain text for a screen reader (checked by a small axe-like
checker that is itself shown to catch faults), no key in any candidate variant, progress
reported stage by stage, and the same bytes on every export."""

from __future__ import annotations

import copy
import itertools
import math
import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lxml.html
import pytest

from itembank import open_bank
from itembank.bank import Bank
from itembank.cli import run
from itembank.core.render import markdown_html
from itembank.forms.exporters import FormBundle, ScenarioBundle, html, pdf
from itembank.forms.exporters.instructions import answer_rules, questions

from .conftest import SAMPLE_BANK, TESTER, make_repo
from .test_export_reproducible import EXE, SITECUSTOMIZE, digests

BLUEPRINT = "practitioner-knowledge-live"


@pytest.fixture(scope="module")
def form(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    bank_path = make_repo(tmp_path_factory.mktemp("variants"), SAMPLE_BANK, "item_bank")
    manifest = open_bank(bank_path).forms.assemble(BLUEPRINT, 1, 8, author=TESTER).manifests[0]
    return bank_path, manifest["id"]


def bundle_of(bank: Bank, form_id: str, manifest: Mapping[str, Any] | None = None) -> FormBundle:
    """A form's bundle from the bank's records at HEAD (the form was just assembled from them)."""
    manifest = dict(manifest or bank.forms.form(form_id))
    ids = [e["id"] for s in manifest["sections"] for e in s["items"]]
    cases = [s["stimulus"] for s in manifest["sections"] if s.get("stimulus")]
    return FormBundle(
        manifest,
        bank.get_record("blueprint", manifest["blueprint"]),
        {i: bank.get(i) for i in ids},
        {c: bank.get_record("stimulus", c) for c in cases},
        {},
        "Sample bank",
    )


def approved(bank: Bank, fmt: str) -> list[dict[str, Any]]:
    return sorted(
        (r for r in bank.records("item") if r["format"] == fmt and r["status"] == "approved"),
        key=lambda r: r["id"],
    )


def text_of(document: bytes) -> str:
    """A document's words with whitespace collapsed (HTML tags dropped; plain text as is)."""
    if document.lstrip().startswith(b"<!DOCTYPE"):
        root = lxml.html.document_fromstring(document)
        for style in root.iter("style"):
            style.getparent().remove(style)
        raw = root.text_content()
    else:
        raw = document.decode()
    return re.sub(r"\s+", " ", raw)


# ---- instructions from the formats on the paper -----------------------------------------------


def test_question_ranges_read_as_the_blueprints_write_them() -> None:
    assert questions([7]) == "Question 7"
    assert questions([7, 8]) == "Questions 7 and 8"
    assert questions([1, 2, 3, 5, 7, 8, 19, 20, 21, 22]) == "Questions 1 to 3, 5, 7, 8 and 19 to 22"


def test_instructions_name_every_format_on_the_paper_and_no_other(form: tuple[Path, str]) -> None:
    bank_path, form_id = form
    bank = open_bank(bank_path)
    bundle = bundle_of(bank, form_id)
    on_paper = {bundle.items[e["id"]]["format"] for s in bundle.manifest["sections"] for e in s["items"]}
    # the drawn form has choose-one and choose-three questions and one case
    assert {"single_best_answer", "multiple_response"} <= on_paper
    manifest = copy.deepcopy(bundle.manifest)
    general = manifest["sections"][0]["items"]
    grids, tf = approved(bank, "multiple_true_false")[:2], approved(bank, "true_false")[0]
    # without grids or true/false: the paper says nothing about either
    manifest["sections"][0]["items"] = [e for e in general if bundle.items[e["id"]]["format"] in ("single_best_answer", "multiple_response")]
    plain = bundle_of(bank, form_id, manifest)
    rules = answer_rules(plain.manifest, plain.items, plain.stimuli)
    paper = html.candidate_paper(plain).decode()
    told = paper[paper.index("<h3>How to answer</h3>") : paper.index("</ul>", paper.index("<h3>How to answer</h3>"))]
    assert told.count("<li>") == len(rules) == 3
    for word in ("grid", "True box", "statement", "two options", "True or False"):
        assert word not in " ".join(rules) and word not in told
    n_general = len(manifest["sections"][0]["items"])
    case_numbers = f"{n_general + 1} to {n_general + 12}"
    assert any(r.startswith("Questions") and "choose the one best answer; tick the box of one option" in r for r in rules)
    assert any("choose three answers; tick the boxes of three options" in r for r in rules)
    assert rules[-1].startswith(f"Questions {case_numbers} are about one case (")
    # with two grids as questions 2 and 3 and a true/false as question 5: each is announced
    with_grids = copy.deepcopy(manifest)
    items = with_grids["sections"][0]["items"]
    for position, record in ((1, grids[0]), (2, grids[1]), (4, tf)):
        items[position] = {**items[position], "id": record["id"], "option_order": [o["id"] for o in record["options"]]}
    gridded = bundle_of(bank, form_id, with_grids)
    rules = answer_rules(gridded.manifest, gridded.items, gridded.stimuli)
    grid_rule = next(r for r in rules if "grid" in r)
    assert grid_rule == (
        "Questions 2 and 3: a grid of statements, each with a True box and a False box. For each "
        "statement, tick True or False, not both. Each statement marked correctly earns an equal "
        "share of the question's marks; a statement left blank or marked both True and False "
        "earns nothing."
    )
    assert f"Question 5: each gives two options ({' or '.join(o['text'] for o in tf['options'])}); tick the box of one option. Choosing both scores no marks." in rules
    assert grid_rule.replace("'", "&#x27;") in html.candidate_paper(gridded).decode()
    # on screen the same grid is a list of statements to select
    screen = answer_rules(gridded.manifest, gridded.items, gridded.stimuli, "screen")
    assert "Questions 2 and 3: a list of statements, each to be marked True or False. For each statement, select True or False, not both." in " ".join(screen)


def test_each_count_and_scoring_rule_gets_its_own_line(form: tuple[Path, str]) -> None:
    bank_path, form_id = form
    bundle = bundle_of(open_bank(bank_path), form_id)
    entries = [e for s in bundle.manifest["sections"] for e in s["items"]]
    multi = [n for n, e in enumerate(entries, 1) if bundle.items[e["id"]]["format"] == "multiple_response"]
    items = dict(bundle.items)
    first = entries[multi[0] - 1]["id"]
    items[first] = {**items[first], "select_count": 2, "scoring": {"rule": "all_or_nothing", "max_score": 1}}
    rules = answer_rules(bundle.manifest, items, bundle.stimuli, "text")
    assert f"{questions([multi[0]])}: choose two answers; write the letters of two options. Here the marks are earned only by choosing exactly the two correct answers; choosing more than two options scores no marks for the question." in rules
    assert f"{questions(multi[1:])}: choose three answers; write the letters of three options. Here each correct answer you choose earns an equal share of the question's marks; choosing more than three options scores no marks for the question." in rules


def test_footer_text_cannot_end_the_style_sheet_and_labels_hold_only_phrasing() -> None:
    from itembank.forms.exporters.accessible import inline

    assert html.css_string('a"b\\c</style>\n') == "a\\22 b\\5c c\\3c /style\\3e \\a "
    assert inline("**bold** and <script>x</script>") == "<strong>bold</strong> and &lt;script&gt;x&lt;/script&gt;"
    assert inline("- one\n- two") == "one two" and inline("para one\n\npara two") == "para one para two"


# ---- the accessible HTML and an axe-like check of it ------------------------------------------


def accessibility_problems(document: bytes) -> list[str]:
    """What a screen-reader user would trip over: no page language, not exactly one h1, a
    skipped heading level, an input without a label (label[for] or aria-labelledby with
    text), a group of inputs outside a fieldset with a legend, a table used for layout (no
    header cells), a script, or an input already checked."""
    root = lxml.html.document_fromstring(document)
    problems = []
    if not root.get("lang"):
        problems.append("html has no lang")
    headings = [int(h.tag[1]) for h in root.iter("h1", "h2", "h3", "h4", "h5", "h6")]
    if headings.count(1) != 1 or (headings and headings[0] != 1):
        problems.append(f"{headings.count(1)} h1 elements; the first heading is h{headings[0] if headings else '-'}")
    problems += [f"heading h{b} follows h{a}" for a, b in itertools.pairwise(headings) if b > a + 1]
    ids = {e.get("id"): e for e in root.iter() if e.get("id")}
    labels = {lab.get("for"): lab.text_content().strip() for lab in root.iter("label") if lab.get("for")}
    for control in root.iter("input", "select", "textarea"):
        ident = control.get("id")
        named = labels.get(ident) or " ".join(
            ids[i].text_content().strip() for i in (control.get("aria-labelledby") or "").split() if i in ids
        ).strip()
        if not named:
            problems.append(f"input {ident or control.get('name')} has no label")
        group = next((a for a in control.iterancestors("fieldset")), None)
        legend = group is not None and len(group) and group[0].tag == "legend" and group[0].text_content().strip()
        if not legend:
            problems.append(f"input {ident} is not in a fieldset with a legend")
        if control.get("checked") is not None:
            problems.append(f"input {ident} is already checked")
    problems += ["a table without header cells (layout)" for t in root.iter("table") if not list(t.iter("th"))]
    problems += ["a script" for _ in root.iter("script")]
    return problems


def test_the_accessibility_checker_catches_each_fault() -> None:
    broken = (
        b"<!DOCTYPE html><html><head><title>t</title></head><body><h2>A</h2><h1>B</h1><h4>C</h4>"
        b'<input type="radio" id="x" name="q" checked><fieldset><legend>Q</legend>'
        b'<input type="radio" id="y"><label for="y">Yes</label></fieldset>'
        b"<table><tr><td>layout</td></tr></table><script>1</script></body></html>"
    )
    assert accessibility_problems(broken) == [
        "html has no lang",
        "1 h1 elements; the first heading is h2",
        "heading h4 follows h1",
        "input x has no label",
        "input x is not in a fieldset with a legend",
        "input x is already checked",
        "a table without header cells (layout)",
        "a script",
    ]


def test_accessible_paper_is_usable_with_a_screen_reader(form: tuple[Path, str], tmp_path: Path) -> None:
    bank_path, form_id = form
    out = tmp_path / "acc"
    assert run(["export", form_id, "--format", "html", "--accessible", "--out", str(out), "--bank", str(bank_path)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [".itembank-export", f"{form_id}-candidate-paper-accessible.html", f"{form_id}-candidate-paper.txt"]
    document = (out / f"{form_id}-candidate-paper-accessible.html").read_bytes()
    assert accessibility_problems(document) == []
    root = lxml.html.document_fromstring(document)
    assert root.get("lang") == "en-GB"
    assert root.find("head/meta").get("charset") == "utf-8"
    bank = open_bank(bank_path)
    bundle = bundle_of(bank, form_id)
    entries = [e for s in bundle.manifest["sections"] for e in s["items"]]
    questions_ = root.xpath("//main/section/section[h3[starts-with(., 'Question ')]]")
    assert [q.find("h3").text_content() for q in questions_] == [f"Question {n} (1 mark)" for n in range(1, 31)]
    for n, (section, entry) in enumerate(zip(questions_, entries, strict=True), 1):
        item = bundle.items[entry["id"]]
        fieldset = section.find("fieldset")
        assert fieldset.get("aria-describedby") == f"q{n}-stem" and root.get_element_by_id(f"q{n}-stem") is not None
        inputs = fieldset.findall(".//input")
        if item["format"] == "multiple_true_false":
            assert [i.get("type") for i in inputs] == ["radio"] * 2 * len(item["options"])
        else:
            kind = "checkbox" if item["format"] == "multiple_response" else "radio"
            assert [i.get("type") for i in inputs] == [kind] * len(item["options"])
            assert {i.get("name") for i in inputs} == {f"q{n}"}
    # readable without its style sheet: the text runs in paper order, case before its questions
    words = text_of(document)
    positions = [words.index(f"Question {n} (1 mark)") for n in range(1, 31)]
    assert positions == sorted(positions)
    case = bundle.stimuli[bundle.manifest["sections"][1]["stimulus"]]
    assert positions[17] < words.index(f"Case: {case['title']}") < positions[18]
    assert "nothing you select is saved or sent" in words


def test_plain_text_paper_is_for_typing_answers(form: tuple[Path, str], tmp_path: Path) -> None:
    bank_path, form_id = form
    bundle = bundle_of(open_bank(bank_path), form_id)
    text = html.documents(bundle, "accessible")[f"{form_id}-candidate-paper.txt"].decode()
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 78
    assert "<" not in text.replace("&lt;", "")  # no markup left
    assert [n for n in range(1, 31) if f"QUESTION {n} (1 MARK)" not in lines or f"Your answer to question {n}:" not in lines] == []
    assert "write the letter of one option" in text and "(for example: A True, B False)" in text
    first = bundle.items[bundle.manifest["sections"][0]["items"][0]["id"]]
    order = bundle.manifest["sections"][0]["items"][0]["option_order"]
    option_a = re.sub(r"\s+", " ", lxml.html.fromstring(markdown_html(next(o["text"] for o in first["options"] if o["id"] == order[0]))).text_content()).strip()
    assert f"- A. {option_a}" in re.sub(r"\n  ", " ", text)


# ---- no key in any candidate variant ------------------------------------------------------------


def leaks(document: bytes, bundle: FormBundle) -> list[str]:
    """Every sentence (40 characters or more) of a rationale that appears in the document, and
    any marker of a key: 'CONFIDENTIAL', 'answer key', 'Rationale', a checked input."""
    words = text_of(document)
    found = [w for w in ("CONFIDENTIAL", "answer key", "Answer key", "Rationale") if w in words]
    found += ["checked"] if re.search(rb"<input[^>]*\bchecked", document) else []
    for item in bundle.items.values():
        for source in [item["rationale"], *(o["rationale"] for o in item["options"])]:
            plain = re.sub(r"\s+", " ", lxml.html.fromstring(f"<div>{markdown_html(source)}</div>").text_content())
            found += [f"{item['id']}: {s[:30]}" for s in re.split(r"(?<=[.!?]) ", plain) if len(s) >= 40 and s in words]
    return found


def test_no_candidate_variant_carries_the_key(form: tuple[Path, str]) -> None:
    bank_path, form_id = form
    bundle = bundle_of(open_bank(bank_path), form_id)
    standard = html.documents(bundle)
    assert len(leaks(standard[f"{form_id}-answer-key.html"], bundle)) > 30  # the scan finds a key
    candidate = {
        **{k: v for k, v in standard.items() if "candidate" in k},
        **html.documents(bundle, "large-print"),
        **html.documents(bundle, "accessible"),
    }
    assert sorted(candidate) == [f"{form_id}-candidate-paper{s}" for s in ("-accessible.html", "-large-print.html", ".html", ".txt")]
    assert {name: leaks(doc, bundle) for name, doc in candidate.items()} == {name: [] for name in candidate}


# ---- large print --------------------------------------------------------------------------------


def sizes_and_colours(reader: Any) -> tuple[list[float], set[tuple[float, ...]]]:
    """Every text run's size in points (the font size times the scale of the text and current
    matrices) and every fill colour set on the pages."""
    sizes: list[float] = []
    colours: set[tuple[float, ...]] = set()

    def visit(text: str, cm: list[float], tm: list[float], _font: Any, size: float) -> None:
        if text.strip():
            sizes.append(round(size * math.sqrt(abs(tm[0] * tm[3] - tm[1] * tm[2])) * math.sqrt(abs(cm[0] * cm[3] - cm[1] * cm[2])), 1))

    for page in reader.pages:
        page.extract_text(visitor_text=visit)
        from pypdf.generic import ContentStream

        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator in (b"rg", b"g", b"sc", b"scn"):
                colours.add(tuple(round(float(v), 3) for v in operands))
    return sizes, colours


def test_large_print_pdf(form: tuple[Path, str]) -> None:
    if not Path("/usr/bin/chromium").is_file():
        pytest.fail("Debian's chromium is not installed: run `make test`, which installs it")
    import io

    import pypdf

    bank_path, form_id = form
    bundle = bundle_of(open_bank(bank_path), form_id)
    calls: list[tuple[str, int, int]] = []
    files = pdf.export(bundle, "large-print", lambda stage, done, total: calls.append((stage, done, total)))
    assert calls == [("render", 0, 1), ("render", 1, 1), ("print", 0, 1), ("print", 1, 1)]
    assert list(files) == [f"{form_id}-candidate-paper-large-print.pdf"]
    reader = pypdf.PdfReader(io.BytesIO(files[f"{form_id}-candidate-paper-large-print.pdf"]))
    pages = [re.sub(r"\s+", " ", p.extract_text()) for p in reader.pages]
    total = len(pages)
    assert total >= 30 + 2  # cover and instructions, then one question per page
    # each question heading on a page of its own
    on = {n: [k for k, text in enumerate(pages) if f"Question {n} (1 mark)" in text] for n in range(1, 31)}
    assert all(len(found) == 1 for found in on.values()), on
    assert len({found[0] for found in on.values()}) == 30
    assert [k for k, text in enumerate(pages, 1) if f"Page {k} of {total}" not in text or f"Form {form_id}" not in text or "Large print" not in text] == []
    sizes, colours = sizes_and_colours(reader)
    assert len(sizes) > 300 and min(sizes) >= 18.0, sorted(sizes)[:5]
    assert colours <= {(0.0,), (1.0,), (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)}, colours  # black on white: 21:1


def test_the_standard_paper_is_smaller_print(form: tuple[Path, str]) -> None:
    """The size check above can fail: the standard paper's text is 9 to 17 pt."""
    if not Path("/usr/bin/chromium").is_file():
        pytest.fail("Debian's chromium is not installed: run `make test`, which installs it")
    import io

    import pypdf

    bank_path, form_id = form
    bundle = bundle_of(open_bank(bank_path), form_id)
    page = html.candidate_paper(bundle)
    sizes, colours = sizes_and_colours(pypdf.PdfReader(io.BytesIO(pdf.print_pdf(page))))
    assert min(sizes) == 9.0 and max(sizes) == 17.0
    assert (0.2, 0.2, 0.2) in colours  # the grey of the small print (#333)


def test_large_print_html_cli_and_wrong_adjustments(form: tuple[Path, str], tmp_path: Path) -> None:
    bank_path, form_id = form
    common = ["--bank", str(bank_path)]
    assert run(["export", form_id, "--format", "html", "--large-print", "--out", str(tmp_path / "lp"), *common]) == 0
    assert sorted(p.name for p in (tmp_path / "lp").iterdir()) == [".itembank-export", f"{form_id}-candidate-paper-large-print.html"]
    page = (tmp_path / "lp" / f"{form_id}-candidate-paper-large-print.html").read_text()
    assert "font-size: 18pt" in page and ".ib-question { break-before: page;" in page
    assert ".ib-box { min-width: 1.8em; height: 1.8em;" in page and "td.ib-tick { width: 4.5em; font-size: 28pt; }" in page  # boxes scaled with the text
    assert "This question is about the case:" in page
    assert run(["export", "SIM-0001", "--format", "html", "--large-print", "--out", str(tmp_path / "sim"), *common]) == 0
    assert sorted(p.name for p in (tmp_path / "sim").iterdir()) == [".itembank-export", "SIM-0001-candidate-brief-large-print.html"]
    for wrong in (["--format", "pdf", "--accessible"], ["--format", "qti30", "--large-print"], ["--format", "html", "--large-print", "--accessible"]):
        assert run(["export", form_id, *wrong, "--out", str(tmp_path / "no"), *common]) == 2
        assert not (tmp_path / "no").exists()


def test_scenario_accessible_brief(form: tuple[Path, str], tmp_path: Path) -> None:
    bank_path, _ = form
    written = open_bank(bank_path).forms.export("SIM-0001", "html-accessible", tmp_path / "sim")
    docs = {p.name: p.read_bytes() for p in written}
    assert sorted(docs) == ["SIM-0001-candidate-brief-accessible.html", "SIM-0001-candidate-brief.txt"]
    assert accessibility_problems(docs["SIM-0001-candidate-brief-accessible.html"]) == []
    for doc in docs.values():
        assert "For the actors only" not in text_of(doc) and "Not demonstrated" not in text_of(doc)
        assert "Background" in text_of(doc)


# ---- progress and reproducibility ---------------------------------------------------------------


def test_progress_is_reported_per_document(form: tuple[Path, str]) -> None:
    bank_path, form_id = form
    bundle = bundle_of(open_bank(bank_path), form_id)
    calls: list[tuple[str, int, int]] = []
    html.export(bundle, progress=lambda *call: calls.append(call))
    assert calls == [("render", 0, 2), ("render", 1, 2), ("render", 2, 2)]
    scenario = ScenarioBundle(open_bank(bank_path).get("SIM-0001"), {}, "Sample bank")
    calls.clear()
    html.export(scenario, "accessible", lambda *call: calls.append(call))
    assert calls == [("render", 0, 2), ("render", 1, 2), ("render", 2, 2)]


@pytest.mark.parametrize("fmt", [["--large-print"], ["--accessible"]])
def test_html_variants_are_byte_identical_across_processes_and_clocks(form: tuple[Path, str], tmp_path: Path, fmt: list[str]) -> None:
    assert EXE, "the itembank console script is not installed"
    bank_path, form_id = form
    (tmp_path / "clock").mkdir()
    (tmp_path / "clock" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    shifted = {**os.environ, "PYTHONPATH": str(tmp_path / "clock"), "PYTHONHASHSEED": "2"}
    outputs = []
    for name, env in (("a", {**os.environ, "PYTHONHASHSEED": "1"}), ("b", shifted)):
        done = subprocess.run(
            [EXE, "export", form_id, "--format", "html", *fmt, "--out", str(tmp_path / name), "--bank", str(bank_path)],
            capture_output=True, text=True, timeout=300, env=env, check=False,
        )
        assert done.returncode == 0, done.stderr
        outputs.append(digests(tmp_path / name))
    assert len(outputs[0]) == (3 if fmt == ["--accessible"] else 2)
    assert outputs[0] == outputs[1]
