"""The letters service (bank.results.letters) on a copy of the sample bank, with hand-made
decisions, points and learning points (tests/letters_inputs.py): the release is a commit by a
results-team member holding counts and one hash (no candidate data), letters written after it
must match it, drafts are marked, output stays outside the repository, regeneration is byte
for byte, a cut-short run resumes, and PDFs come from one browser session. Also the release
app's model and view, and the command line's refusals that need no other step of issue 13."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader

from itembank import open_bank
from itembank.core.errors import IdentityError, ItembankError
from itembank.results.letters import DRAFT
from itembank.results.letters_service import Letters, LettersRefusedError, letters_digest
from itembank.storage.outputs import OutputFolderError
from itembank.ui.release_app import ReleaseApp
from itembank.ui.release_model import NotSignedInError, ReleaseModel

from .conftest import git
from .itemtext import bank_sentences, scan
from .letters_inputs import ADMIN, FORM, HandMade, adopted, cohort

MEMBER = "Rahul Menon <rahul.menon@example.org>"


def letters_of(bank: Path, n: int = 14) -> tuple[Letters, HandMade]:
    head = git(bank, "rev-parse", "HEAD").strip()
    source = HandMade(cohort(n), adopted(head))
    service = open_bank(bank).results.letters
    service.sources = source
    return service, source


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_release_commits_counts_and_one_hash_by_the_member(
    sample_bank_rw: Path, tmp_path: Path
) -> None:
    service, _ = letters_of(sample_bank_rw)
    built = service.build(FORM)
    assert built.counts == {"candidates": 14, "met": 5, "not_met": 8, "pending": 1}
    assert built.pending == ("CAND-00003",) and "CAND-00003.html" not in built.letters
    assert built.digest == letters_digest(built.letters)
    sha = service.release(FORM, MEMBER)
    author = git(sample_bank_rw, "log", "-1", "--format=%an <%ae>|%s", sha).strip()
    assert author == f"{MEMBER}|release: {ADMIN} letters (5 met, 8 not met, 1 pending) approved by Rahul Menon"
    changed = git(sample_bank_rw, "show", "--name-only", "--format=", sha).split()
    assert changed == [f"item_bank/releases/{ADMIN}.json"]
    record = json.loads((sample_bank_rw / "releases" / f"{ADMIN}.json").read_text())
    assert record["letters"] == {"count": 13, "sha256": built.digest}
    assert record["counts"] == built.counts and record["approved_by"] == MEMBER
    assert record["pass_mark"]["commit"] == built.adopted.commit
    assert "CAND-" not in json.dumps(record)  # no candidate data, only aggregates
    findings = [f for f in open_bank(sample_bank_rw).validate().findings if f.severity == "error"]
    assert findings == []
    with pytest.raises(LettersRefusedError, match="already released by Rahul Menon"):
        service.release(FORM, MEMBER)


def test_only_a_results_team_member_may_release(sample_bank_rw: Path) -> None:
    service, _ = letters_of(sample_bank_rw)
    with pytest.raises(IdentityError, match="not on a results panel"):
        service.release(FORM, "Helen Marsh <helen.marsh@example.org>")
    assert not (sample_bank_rw / "releases").exists()


def test_letters_are_refused_before_release_and_drafts_are_marked(
    sample_bank_rw: Path, tmp_path: Path
) -> None:
    service, _ = letters_of(sample_bank_rw)
    out = tmp_path / "letters"
    with pytest.raises(LettersRefusedError, match="has not been released"):
        service.write(FORM, out)
    assert not out.exists()
    done = service.write(FORM, out, unreleased=True)
    got = files(out)
    assert len(done.written) == 13 and done.draft
    assert all(DRAFT.encode() in got[n] for n in got if n.endswith(".html"))
    assert got["pending.txt"] == b"CAND-00003\n"


def test_released_letters_regenerate_byte_for_byte_and_resume(
    sample_bank_rw: Path, tmp_path: Path
) -> None:
    service, _ = letters_of(sample_bank_rw)
    service.release(FORM, MEMBER)
    first = service.write(FORM, tmp_path / "a")
    again, _ = letters_of(sample_bank_rw)  # a new Bank: nothing cached
    second = again.write(FORM, tmp_path / "b")
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert (len(first.written), len(second.written)) == (13, 13)
    assert DRAFT.encode() not in files(tmp_path / "a")["CAND-00001.html"]
    (tmp_path / "a" / "CAND-00007.html").unlink()
    (tmp_path / "a" / "CAND-00008.html").write_bytes(b"cut short")
    resumed = again.write(FORM, tmp_path / "a")
    assert sorted(resumed.written) == ["CAND-00007.html", "CAND-00008.html"]
    assert len(resumed.kept) == 11
    assert files(tmp_path / "a") == files(tmp_path / "b")


def test_letters_that_differ_from_the_release_are_refused(
    sample_bank_rw: Path, tmp_path: Path
) -> None:
    service, source = letters_of(sample_bank_rw)
    service.release(FORM, MEMBER)
    source.learning_texts = source.learning_texts[1:]  # a learning point withdrawn since
    with pytest.raises(LettersRefusedError, match="differ from the ones released"):
        service.write(FORM, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    drafts = service.write(FORM, tmp_path / "out", unreleased=True)
    assert drafts.draft and len(drafts.written) == 13


def test_output_inside_the_repository_is_refused(sample_bank_rw: Path) -> None:
    service, _ = letters_of(sample_bank_rw)
    for inside in (sample_bank_rw / "letters", sample_bank_rw.parent / "x" / "y"):
        with pytest.raises(OutputFolderError, match="inside the bank's git repository"):
            service.write(FORM, inside, unreleased=True)
        with pytest.raises(OutputFolderError, match="inside the bank's git repository"):
            service.write_employer_reports(FORM, inside)
    assert git(sample_bank_rw, "status", "--porcelain") == ""


def test_no_letters_without_an_adopted_pass_mark(sample_bank_rw: Path) -> None:
    service, source = letters_of(sample_bank_rw)
    service.sources = HandMade(source.candidates, source.mark)
    service.sources.adopted = lambda form: None  # type: ignore[method-assign]
    with pytest.raises(ItembankError, match="No pass mark has been adopted"):
        service.build(FORM)


def test_a_pass_mark_not_yet_committed_cannot_be_released(sample_bank_rw: Path) -> None:
    service, source = letters_of(sample_bank_rw)
    service.sources = HandMade(source.candidates, adopted(commit=""))
    with pytest.raises(ItembankError, match="is not committed yet"):
        service.release(FORM, MEMBER)
    assert not (sample_bank_rw / "releases").exists()


def test_an_employer_report_prints_to_pdf_with_its_chart(
    sample_bank_rw: Path, tmp_path: Path
) -> None:
    service, _ = letters_of(sample_bank_rw)
    paths = service.write_employer_reports(FORM, tmp_path, ["Saltmarsh Unitary Authority"],
                                           pdf=True)  # fmt: skip
    assert [p.name for p in paths] == [
        "saltmarsh-unitary-authority-thematic-report.pdf",
        "saltmarsh-unitary-authority-thematic-report.html",
    ]
    text = " ".join(p.extract_text() for p in PdfReader(paths[0]).pages)
    assert "Thematic report: Saltmarsh Unitary Authority" in text
    assert "fewer than 10 candidates" in text and "share of candidates at or above" in text
    assert scan(files(tmp_path), bank_sentences(sample_bank_rw)) == []


def test_scenarios_are_named_by_their_standards_in_each_candidates_own_numbering(
    sample_bank_rw: Path,
) -> None:
    service, source = letters_of(sample_bank_rw, n=2)
    plain = source.decisions

    def decisions(form: str, results: object) -> list:
        first, second = plain(form, results)
        moved = tuple(replace(m, scenario="SIM-0002") for m in second.practice)
        return [first, replace(second, practice=moved)]

    source.decisions = decisions  # type: ignore[method-assign]
    built = service.build(FORM)
    one, two = (built.letters[f"CAND-0000{k}.html"].decode() for k in (1, 2))
    assert "Simulated practice, scenario 1: Relationships and effective direct work; " \
        "Communication; Adult mental ill health" in one
    assert "Simulated practice, scenario 1: Adult mental ill health, substance misuse, domestic " \
        "abuse, physical ill health and disability; Relationships and effective direct work; " \
        "Child development;" in two
    for page in (one, two):
        assert "Dawson" not in page and "Morris" not in page  # never the case's title


def test_a_candidate_id_unfit_for_a_file_name_is_refused(sample_bank_rw: Path) -> None:
    service, source = letters_of(sample_bank_rw)
    source.candidates.append(("../escape", 20.0, True, "Saltmarsh Unitary Authority"))
    with pytest.raises(ItembankError, match="cannot be used as a file name"):
        service.build(FORM)


def test_employer_reports_for_every_employer_and_no_item_text(
    sample_bank_rw: Path, tmp_path: Path
) -> None:
    service, _ = letters_of(sample_bank_rw)
    paths = service.write_employer_reports(FORM, tmp_path / "reports")
    assert [p.name for p in paths] == [
        "northwold-county-council-thematic-report.html",
        "saltmarsh-unitary-authority-thematic-report.html",
    ]
    with pytest.raises(ItembankError, match="employs no candidate"):
        service.employer_reports(FORM, ["Nowhere Council"])
    service.write(FORM, tmp_path / "letters", unreleased=True)
    live = bank_sentences(sample_bank_rw)
    docs = {**files(tmp_path / "reports"), **files(tmp_path / "letters")}
    assert len(docs) == 16 and scan(docs, live) == []


def test_pdf_letters_from_one_session_tagged_marked_and_reproducible(
    sample_bank_rw: Path, tmp_path: Path
) -> None:
    service, _ = letters_of(sample_bank_rw, n=4)
    stages: list[tuple[str, int, int]] = []
    service.write(FORM, tmp_path / "a", pdf=True, unreleased=True,
                  progress=lambda *s: stages.append(s))  # fmt: skip
    assert stages[0] == ("letters", 0, 3) and stages[-1] == ("letters", 3, 3)
    service.write(FORM, tmp_path / "b", pdf=True, unreleased=True)
    a, b = files(tmp_path / "a"), files(tmp_path / "b")
    assert sorted(n for n in a if n.endswith(".pdf")) == [
        "CAND-00001.pdf", "CAND-00002.pdf", "CAND-00004.pdf"
    ]  # fmt: skip
    assert a == b  # the same bytes, PDFs included
    reader = PdfReader(tmp_path / "a" / "CAND-00001.pdf")
    assert len(reader.pages) >= 2
    assert all("DRAFT: not released" in page.extract_text() for page in reader.pages)
    assert "/StructTreeRoot" in reader.trailer["/Root"]
    assert scan(a, bank_sentences(sample_bank_rw)) == []
    again = service.write(FORM, tmp_path / "a", pdf=True, unreleased=True)
    assert again.written == [] and len(again.kept) == 3  # nothing printed again


def test_the_release_model_and_app(sample_bank_rw: Path) -> None:
    _, source = letters_of(sample_bank_rw)
    model = ReleaseModel(open_bank(sample_bank_rw), source)
    with pytest.raises(NotSignedInError):
        model.forms()
    with pytest.raises(IdentityError, match="Only the results team"):
        model.sign_in("Helen Marsh <helen.marsh@example.org>")
    app = ReleaseApp(open_bank(sample_bank_rw), source)
    app.who.value = MEMBER
    app.sign_in_button.click()
    assert "Rahul Menon" in app.signed.value
    assert FORM in app.form.options
    app.form.value = FORM
    app.open_button.click()
    assert "ib-rel-count-met\"><td>Met</td><td>5<" in app.counts.value
    assert "ib-rel-count-pending\"><td>Pending</td><td>1<" in app.counts.value
    assert "CAND-00003" in app.status.value and "Not released yet" in app.status.value
    assert app.candidate.options[0] == "CAND-00001" and "srcdoc=" in app.letter.value
    assert "DRAFT: not released" in app.letter.value and 'sandbox=""' in app.letter.value
    assert "<script" not in app.letter.value
    app.candidate.value = "CAND-00002"
    assert "Candidate: CAND-00002" in app.letter.value
    assert app.employer.options == (
        ("Northwold County Council", "northwold-county-council-thematic-report.html"),
        ("Saltmarsh Unitary Authority", "saltmarsh-unitary-authority-thematic-report.html"),
    )
    assert app.employer.value == "northwold-county-council-thematic-report.html"
    assert "Thematic report: Northwold County Council" in app.report.value
    app.approve_button.click()
    assert "Confirm to release" in app.message.value
    assert app.confirm_button.description == f"Yes, release 13 letter(s) of {ADMIN}"
    assert not (sample_bank_rw / "releases").exists()
    app.confirm_button.click()
    assert "Released: commit" in app.message.value, app.message.value
    assert "Released by Rahul Menon" in app.status.value and app.approve_button.disabled
    assert "DRAFT: not released" not in app.letter.value  # now the letter as released
    last = git(sample_bank_rw, "log", "-1", "--format=%an|%s").strip()
    assert last.startswith(f"Rahul Menon|release: {ADMIN}")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    exe = str(Path(sys.executable).parent / "itembank")
    return subprocess.run([exe, *args], capture_output=True, text=True, check=False)


def test_the_commands_say_their_exit_codes_and_refuse_a_folder_in_the_repository(
    sample_bank_rw: Path,
) -> None:
    for action in ("letters", "employer-report", "release"):
        shown = _cli("results", action, "--help")
        assert shown.returncode == 0 and "Exit 0" in shown.stdout, action
    inside = _cli("results", "letters", FORM, "--out", str(sample_bank_rw / "out"),
                  "--unreleased", "--bank", str(sample_bank_rw))  # fmt: skip
    assert inside.returncode == 2 and "inside the bank's git repository" in inside.stderr
    assert "Traceback" not in inside.stderr
    both = _cli("results", "employer-report", "--form", FORM, "--out", "/tmp/x",
                "--bank", str(sample_bank_rw))  # fmt: skip
    assert both.returncode == 2 and "name one EMPLOYER, or give --all" in both.stderr
    before = _cli("results", "letters", FORM, "--out", str(sample_bank_rw.parent.parent / "o"),
                  "--unreleased", "--bank", str(sample_bank_rw))  # fmt: skip
    assert before.returncode == 2 and "Traceback" not in before.stderr  # a step is missing, or
    assert "itembank: error:" in before.stderr  # (once merged) no pass mark is adopted yet
    stranger = _cli("results", "release", FORM, "--as", "Helen Marsh <helen.marsh@example.org>",
                    "--bank", str(sample_bank_rw))  # fmt: skip
    assert stranger.returncode == 2 and "not on a results panel" in stranger.stderr
