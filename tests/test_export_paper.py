"""Printable papers (HTML through nbconvert, PDF through Debian's chromium): the candidate
paper carries no key, the answer key and marking scheme are separate, scenario documents are
separate, the PDFs hold the expected text, every page says "Page k of N" and whose it is, the
PDFs are tagged, and the same form gives the same bytes. The adjustments: test_paper_variants."""

from __future__ import annotations

from pathlib import Path

import pytest

from itembank import open_bank
from itembank.cli import run
from itembank.core.errors import ItembankError
from itembank.core.render import markdown_html

from .conftest import SAMPLE_BANK, TESTER, make_repo

BLUEPRINT = "practitioner-knowledge-live"


@pytest.fixture(scope="module")
def form(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    bank_path = make_repo(tmp_path_factory.mktemp("paper"), SAMPLE_BANK, "item_bank")
    manifest = open_bank(bank_path).forms.assemble(BLUEPRINT, 1, 8, author=TESTER).manifests[0]
    return bank_path, manifest["id"]


def test_html_candidate_paper_and_separate_answer_key(form: tuple[Path, str], tmp_path: Path) -> None:
    bank_path, form_id = form
    bank = open_bank(bank_path)
    written = bank.forms.export(form_id, "html", tmp_path / "html")
    names = sorted(p.name for p in written)
    assert names == [f"{form_id}-answer-key.html", f"{form_id}-candidate-paper.html"]
    paper = (tmp_path / "html" / f"{form_id}-candidate-paper.html").read_text()
    key = (tmp_path / "html" / f"{form_id}-answer-key.html").read_text()
    manifest = bank.forms.form(form_id)
    first = bank.get(manifest["sections"][0]["items"][0]["id"])
    assert "Time allowed: 60 minutes" in paper and "Question 30" in paper
    assert "<script" not in paper and "http" not in paper.split("</style>")[0]
    rationale = markdown_html(first["rationale"])
    assert rationale in key and rationale not in paper  # no rationale, no key on the paper
    assert "Rationale" not in paper and "CONFIDENTIAL" not in paper
    assert "Answer key" in key and "CONFIDENTIAL" in key
    case = bank.get_record("stimulus", manifest["sections"][1]["stimulus"])
    assert case["title"].split(":")[0] in paper
    assert "PR-" in key  # standards on the marking scheme


def test_scenario_documents_are_separate(form: tuple[Path, str], tmp_path: Path) -> None:
    bank_path, _ = form
    written = open_bank(bank_path).forms.export("SIM-0001", "html", tmp_path / "sim")
    texts = {p.name: p.read_text() for p in written}
    assert sorted(texts) == ["SIM-0001-actor-briefs.html", "SIM-0001-candidate-brief.html", "SIM-0001-marking-sheet.html"]
    assert "For the actors only" in texts["SIM-0001-actor-briefs.html"]
    assert "For the actors only" not in texts["SIM-0001-candidate-brief.html"]
    assert "marking sheet" in texts["SIM-0001-marking-sheet.html"]
    assert "Not demonstrated" in texts["SIM-0001-marking-sheet.html"]
    assert "<h2>Mixed evidence</h2>" in texts["SIM-0001-marking-sheet.html"]
    assert "<h2>Second marking</h2>" in texts["SIM-0001-marking-sheet.html"]
    assert "Second marking" not in texts["SIM-0001-candidate-brief.html"]
    assert "Not demonstrated" not in texts["SIM-0001-candidate-brief.html"]
    with pytest.raises(ItembankError, match="scenarios are exported as html or pdf"):
        open_bank(bank_path).forms.export("SIM-0001", "qti21", tmp_path / "no")


def test_existing_output_folder_is_refused_unless_force(form: tuple[Path, str], tmp_path: Path) -> None:
    bank_path, form_id = form
    out = tmp_path / "taken"
    out.mkdir()
    assert run(["export", form_id, "--format", "html", "--out", str(out), "--bank", str(bank_path)]) == 2
    assert not list(out.iterdir())
    assert run(["export", form_id, "--format", "html", "--out", str(out), "--bank", str(bank_path), "--force"]) == 0
    assert len(list(out.iterdir())) == 3  # the two papers and itembank's marker
    assert (out / ".itembank-export").is_file()


def test_pdf_papers_hold_the_expected_text_and_are_reproducible(form: tuple[Path, str], tmp_path: Path) -> None:
    if not Path("/usr/bin/chromium").is_file():
        pytest.fail("Debian's chromium is not installed: run `make test`, which installs it")
    import pypdf

    bank_path, form_id = form
    bank = open_bank(bank_path)
    first = bank.forms.export(form_id, "pdf", tmp_path / "a")
    second = bank.forms.export(form_id, "pdf", tmp_path / "b")
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()
    paper = pypdf.PdfReader(tmp_path / "a" / f"{form_id}-candidate-paper.pdf")
    text = " ".join(page.extract_text() for page in paper.pages)
    assert len(paper.pages) >= 5  # 30 questions and a cover; the exact count depends on the items drawn
    assert [n for n in range(1, 31) if f"Question {n}" not in text] == []
    assert "Time allowed: 60 minutes" in text and "Question 30" in text and "CONFIDENTIAL" not in text
    key = pypdf.PdfReader(tmp_path / "a" / f"{form_id}-answer-key.pdf")
    key_text = " ".join(page.extract_text() for page in key.pages)
    assert "CONFIDENTIAL" in key_text and "Marking scheme" in key_text
    # every page, the cover too, names the form and says "Page k of N" (CSS paged media)
    for reader, footer in ((paper, f"Form {form_id}"), (key, f"Form {form_id}: answer key (confidential)")):
        pages = [" ".join(page.extract_text().split()) for page in reader.pages]
        total = len(pages)
        assert [k for k, text in enumerate(pages, 1) if f"Page {k} of {total}" not in text or footer not in text] == []
        # tagged for accessibility: a structure tree, marked content, the page's language
        root = reader.trailer["/Root"]
        assert root["/MarkInfo"]["/Marked"] == pypdf.generic.BooleanObject(True)
        assert root["/StructTreeRoot"]["/Type"] == "/StructTreeRoot" and len(root["/StructTreeRoot"]["/K"]) >= 1
        assert root["/Lang"] == "en-GB"


def test_every_scenario_pdf_page_is_numbered(form: tuple[Path, str], tmp_path: Path) -> None:
    if not Path("/usr/bin/chromium").is_file():
        pytest.fail("Debian's chromium is not installed: run `make test`, which installs it")
    import pypdf

    bank_path, _ = form
    written = open_bank(bank_path).forms.export("SIM-0001", "pdf", tmp_path / "sim")
    for path, what in zip(written, ("actor briefs", "candidate brief", "marking sheet"), strict=True):
        pages = [" ".join(page.extract_text().split()) for page in pypdf.PdfReader(path).pages]
        assert [k for k, text in enumerate(pages, 1) if f"Page {k} of {len(pages)}" not in text or f"Scenario SIM-0001: {what}" not in text] == []
