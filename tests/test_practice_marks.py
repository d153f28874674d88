"""Simulated-practice marks (issue 13 part 1): the parser's exact findings for every bad input,
a file read as a stream, and the import into the results store: all or nothing, idempotent,
kept out of the content repository, conflicts refused, a later file of third marks added."""

from __future__ import annotations

import gzip
import io
import json
import shutil
from pathlib import Path

import pytest

from itembank import open_bank
from itembank.core.errors import ItembankError
from itembank.results import practice
from itembank.results.practice import MarkRow, parse_marks, schemes_of
from itembank.results.service import ImportConflictError, ResultsImportError
from itembank.storage.resultstore import ResultsFolderError, ResultStore
from tests.conftest import ROOT, SAMPLE_BANK, git, sample_repo

FORM1 = "practitioner-knowledge-live-2026-1"
SAMPLE = ROOT / "sample_results"
INVALID = Path(__file__).parent / "data" / "marks_invalid"
HEADER = "candidate,scenario,criterion,assessor,band\n"
PEOPLE = {"CAND-00001", "CAND-00002", "CAND-00003"}


@pytest.fixture(scope="module")
def schemes() -> dict:
    bank = open_bank(SAMPLE_BANK)
    return schemes_of([r for r in bank.records("scenario") if r["status"] == "approved"])


def knowledge_subset(tmp: Path, n: int) -> tuple[Path, Path]:
    """The first n sample candidates of form 1 as plain CSVs (responses, candidates)."""
    keep = {f"CAND-{i:05d}" for i in range(1, n + 1)}
    out = []
    for name in ("responses.csv.gz", "candidates-SIMULATED.csv.gz"):
        lines = gzip.decompress((SAMPLE / FORM1 / name).read_bytes()).decode().splitlines()
        kept = [lines[0]] + [line for line in lines[1:] if line.split(",")[0] in keep]
        target = tmp / name.replace(".gz", "")
        target.write_text("\n".join(kept) + "\n")
        out.append(target)
    return out[0], out[1]


@pytest.fixture(scope="session")
def marks_bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample bank in its own repository with its two forms assembled there (the same
    items and option orders as the committed sample, as in test_results_import)."""
    path = sample_repo(tmp_path_factory.mktemp("marks"))
    # these tests pass their pass mark in, and check the refusal when none is adopted: the
    # sample's adoptions are removed here (the sample's own are used in test_letters_sample)
    git(path.parent, "rm", "-q", "-r", "item_bank/standard_setting/pk-live-2026-1/adopted",
        "item_bank/standard_setting/pk-live-2026-2/adopted")
    git(path.parent, "commit", "-q", "-m", "tests: no pass mark adopted")
    return path


@pytest.fixture(scope="session")
def knowledge_store(marks_bank: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results folder holding the knowledge results of candidates 1 to 3 of form 1."""
    tmp = tmp_path_factory.mktemp("knowledge")
    responses, candidates = knowledge_subset(tmp, 3)
    store = tmp / "store"
    open_bank(marks_bank).results.import_results([responses], FORM1, candidates, store)
    return store


@pytest.fixture
def with_knowledge(knowledge_store: Path, tmp_path: Path) -> Path:
    """A fresh copy of knowledge_store for one test (the import is the slow part)."""
    return Path(shutil.copytree(knowledge_store, tmp_path / "store"))


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != ".lock"}


# ---- the parser ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(p.name for p in INVALID.iterdir()))
def test_each_bad_input_is_a_finding_with_its_place_and_fix(schemes: dict, case: str) -> None:
    folder = INVALID / case
    source = next(p for p in folder.iterdir() if p.name != "expected.json")
    with open(source, "rb") as handle:
        parsed = parse_marks(source.name, handle, schemes, PEOPLE)
    assert [f.to_dict() for f in parsed.findings] == json.loads(
        (folder / "expected.json").read_text())


def test_a_good_file_gives_its_rows_in_order_plain_gzipped_bom_or_crlf(schemes: dict) -> None:
    text = HEADER + "CAND-00001,SIM-0001,MC1,ASR-01,2\n\nCAND-00001,SIM-0001,MC1,ASR-02,3\n"
    expected = [MarkRow("CAND-00001", "SIM-0001", "MC1", "ASR-01", 2, 2),
                MarkRow("CAND-00001", "SIM-0001", "MC1", "ASR-02", 3, 4)]
    for data in (text.encode(), gzip.compress(text.encode()), b"\xef\xbb\xbf" + text.encode(),
                 text.replace("\n", "\r\n").encode()):
        parsed = parse_marks("m.csv", data, schemes, PEOPLE)
        assert (parsed.rows, parsed.findings) == (expected, [])
    # columns in another order are read by name
    swapped = "band,assessor,criterion,scenario,candidate\n3,ASR-09,MC8,SIM-0002,CAND-00003\n"
    assert parse_marks("m.csv", swapped.encode(), schemes, PEOPLE).rows == [
        MarkRow("CAND-00003", "SIM-0002", "MC8", "ASR-09", 3, 2)]


class _Guarded(io.BytesIO):
    """A stream that fails the test if anyone asks for all of it at once."""

    largest = 0

    def read(self, size: int | None = -1) -> bytes:
        assert size is not None and 0 <= size <= 1 << 20, f"read({size}) reads the whole file"
        type(self).largest = max(type(self).largest, size)
        return super().read(size)

    def readline(self, size: int | None = -1) -> bytes:
        assert size is not None and 0 < size <= 1 << 20, f"readline({size}) is unbounded"
        type(self).largest = max(type(self).largest, size)
        return super().readline(size)


@pytest.mark.parametrize("gzipped", [False, True])
def test_a_large_file_is_read_as_a_stream(schemes: dict, gzipped: bool) -> None:
    rows = "".join(f"C-{i:06d},SIM-0001,MC{1 + i % 8},ASR-{i % 2},{i % 4}\n" for i in range(200_000))
    data = (HEADER + rows).encode()
    _Guarded.largest = 0
    parsed = parse_marks("big.csv", _Guarded(gzip.compress(data) if gzipped else data), schemes)
    assert (len(parsed.rows), parsed.findings) == (200_000, [])
    assert parsed.rows[-1] == MarkRow("C-199999", "SIM-0001", "MC8", "ASR-1", 3, 200_001)
    assert 0 < _Guarded.largest <= 1 << 20


def test_an_overlong_line_is_one_finding_and_the_lines_after_it_keep_their_numbers(
    schemes: dict,
) -> None:
    data = (HEADER + "x" * 200_000 + "\nCAND-00001,SIM-0001,MC1,ASR-01,9\n").encode()
    parsed = parse_marks("m.csv", data, schemes, PEOPLE)
    assert [(f.pointer, f.code) for f in parsed.findings] == [
        ("line 2", "bad-row"), ("line 3, column 5 (band)", "bad-band")]
    assert parsed.findings[0].message.startswith("is longer than 64 KB")


def test_too_many_rows_and_too_many_problems_are_capped(
    schemes: dict, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(practice, "MAX_ROWS", 10)
    rows = "".join(f"CAND-00001,SIM-0001,MC1,ASR-{i:02d},2\n" for i in range(4))
    rows += "".join(f"CAND-00002,SIM-0001,MC{1 + i % 8},A{i},2\n" for i in range(20))
    parsed = parse_marks("m.csv", (HEADER + rows).encode(), schemes, PEOPLE)
    assert len(parsed.rows) == 10
    assert [(f.pointer, f.code) for f in parsed.findings] == [
        ("line 5", "too-many-marks"), ("line 13", "too-large")]
    monkeypatch.undo()
    bad = HEADER + "".join(f"CAND-00001,SIM-0001,MC1,ASR-{i},7\n" for i in range(600))
    parsed = parse_marks("m.csv", bad.encode(), schemes, PEOPLE)
    assert len(parsed.findings) == 501 and parsed.rows == []
    assert parsed.findings[-1].code == "more-problems"
    assert parsed.findings[-1].message.startswith("and 100 more problem(s) not listed")


# ---- the import ---------------------------------------------------------------------------


def _marks_file(tmp: Path, name: str, lines: list[str]) -> Path:
    path = tmp / name
    path.write_text(HEADER + "".join(f"{line}\n" for line in lines))
    return path


PAIR = [f"CAND-0000{c},SIM-0001,MC{k},ASR-0{a},{2 if k != 3 or c != 2 else (1 if a == 1 else 3)}"
        for c in (1, 2, 3) for k in range(1, 9) for a in (1, 2)]


def test_import_is_idempotent_and_lands_outside_the_repository(
    marks_bank: Path, with_knowledge: Path, tmp_path: Path,
) -> None:
    bank = open_bank(marks_bank)
    source = _marks_file(tmp_path, "marks.csv", PAIR)
    first = bank.results.marks.import_marks(source, FORM1, with_knowledge)
    assert (first.stored, first.candidates, first.marks, first.criteria) == (True, 3, 48, 8)
    before = _snapshot(with_knowledge)
    again = bank.results.marks.import_marks(source, FORM1, with_knowledge)
    assert (again.stored, again.import_id) == (False, first.import_id)
    assert _snapshot(with_knowledge) == before  # nothing changed, not even the imports row
    rows = bank.results.marks.rows(FORM1, with_knowledge)
    assert len(rows) == 48 and rows[0] == MarkRow("CAND-00001", "SIM-0001", "MC1", "ASR-01", 2, 2)
    listed = [i for i in bank.results.imports(with_knowledge) if i["format"] == "marks"]
    assert [(i["candidates"], i["responses"], i["source"]) for i in listed] == [(3, 48, "marks.csv")]
    # the repository holds no candidate data: nothing new or changed in it
    assert bank.store.worktree.resolve() not in with_knowledge.resolve().parents
    assert git(bank.store.worktree, "status", "--porcelain").strip() == ""


def test_a_results_folder_inside_the_repository_is_refused(marks_bank: Path, tmp_path: Path) -> None:
    bank = open_bank(marks_bank)
    source = _marks_file(tmp_path, "marks.csv", PAIR)
    inside = bank.store.worktree / "results"
    with pytest.raises(ResultsFolderError, match="inside the bank's git repository"):
        bank.results.marks.import_marks(source, FORM1, inside)
    assert not inside.exists()


def test_refused_imports_store_nothing(marks_bank: Path, with_knowledge: Path, tmp_path: Path) -> None:
    bank = open_bank(marks_bank)
    before = _snapshot(with_knowledge)
    bad = _marks_file(tmp_path, "bad.csv", [*PAIR[:3], "CAND-00001,SIM-0001,MC1,ASR-09,5"])
    with pytest.raises(ResultsImportError) as caught:
        bank.results.marks.import_marks(bad, FORM1, with_knowledge)
    assert [(f.pointer, f.code) for f in caught.value.findings] == [
        ("line 5, column 5 (band)", "bad-band")]
    assert str(caught.value).startswith("Nothing was imported: 1 problem(s) in the marks.")
    assert _snapshot(with_knowledge) == before
    with pytest.raises(ItembankError, match="import the form's results first"):
        bank.results.marks.import_marks(bad, FORM1, tmp_path / "empty-store")
    assert not (tmp_path / "empty-store" / "marks").exists()


def test_a_mark_from_a_second_file_is_a_conflict_but_a_file_of_third_marks_is_added(
    marks_bank: Path, with_knowledge: Path, tmp_path: Path,
) -> None:
    bank = open_bank(marks_bank)
    bank.results.marks.import_marks(_marks_file(tmp_path, "a.csv", PAIR), FORM1, with_knowledge)
    before = _snapshot(with_knowledge)
    clash = _marks_file(tmp_path, "b.csv", PAIR[:2])  # the same marks, another file
    clash.write_text(clash.read_text() + "\n")
    with pytest.raises(ImportConflictError, match="already has some of these marks"):
        bank.results.marks.import_marks(clash, FORM1, with_knowledge)
    assert _snapshot(with_knowledge) == before
    third = _marks_file(tmp_path, "third.csv", ["CAND-00002,SIM-0001,MC3,ASR-07,2"])
    assert bank.results.marks.import_marks(third, FORM1, with_knowledge).stored
    rows = [r for r in bank.results.marks.rows(FORM1, with_knowledge)
            if (r.candidate, r.criterion) == ("CAND-00002", "MC3")]
    assert [(r.assessor, r.band) for r in rows] == [("ASR-01", 1), ("ASR-02", 3), ("ASR-07", 2)]
    # removing an import takes its marks out
    imports = [i for i in bank.results.imports(with_knowledge) if i["source"] == "third.csv"]
    bank.results.remove(imports[0]["import_id"], with_knowledge)
    assert len(bank.results.marks.rows(FORM1, with_knowledge)) == 48


def test_marks_for_a_candidate_without_results_of_the_form_are_refused(
    marks_bank: Path, with_knowledge: Path, tmp_path: Path,
) -> None:
    bank = open_bank(marks_bank)
    source = _marks_file(tmp_path, "m.csv", ["CAND-00004,SIM-0001,MC1,ASR-01,2"])
    with pytest.raises(ResultsImportError) as caught:
        bank.results.marks.import_marks(source, FORM1, with_knowledge)
    assert [(f.pointer, f.code) for f in caught.value.findings] == [
        ("line 2, column 1 (candidate)", "unknown-candidate")]
    assert ResultStore(with_knowledge).rows("marks", FORM1, ["candidate"]) == []


# ---- the simulated sample -------------------------------------------------------------------


@pytest.mark.parametrize(("form", "marks", "third"), [
    (FORM1, 32218, 221), ("practitioner-knowledge-live-2026-2", 32190, 193)])
def test_the_sample_marks_are_reproducible_and_as_the_readme_says(
    schemes: dict, form: str, marks: int, third: int,
) -> None:
    import importlib.util

    from itembank.results.agreement import agreement

    spec = importlib.util.spec_from_file_location("make_practice_marks",
                                                  SAMPLE / "make_practice_marks.py")
    assert spec is not None and spec.loader is not None
    maker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(maker)
    committed = (SAMPLE / form / "practice-marks-SIMULATED.csv.gz").read_bytes()
    with gzip.open(SAMPLE / form / "candidates-SIMULATED.csv.gz", "rt") as handle:
        people = [line.split(",")[0] for line in handle.read().splitlines()[1:]]
    criteria = {s: list(schemes[s]) for s in maker.SCENARIOS}
    assert maker.marks_for(form, people, criteria) == committed  # byte-identical
    parsed = parse_marks("sample", committed, schemes, set(people))
    assert (len(parsed.rows), parsed.findings) == (marks, [])
    table = agreement(parsed.rows, schemes, 1)
    assert len(table) == 16 and {r.n for r in table} <= set(range(900, 1100))
    assert sum(r.third_needed for r in table) == third
    assert sum(r.third_missing for r in table) == 3
    assert all(0.55 <= r.kappa_linear <= 0.75 for r in table)


def test_the_results_app_counts_candidates_once_when_marks_are_imported(
    marks_bank: Path, with_knowledge: Path, tmp_path: Path,
) -> None:
    from tests.test_results_app import signed_in

    open_bank(marks_bank).results.marks.import_marks(
        _marks_file(tmp_path, "a.csv", PAIR), FORM1, with_knowledge)
    app = signed_in(marks_bank, with_knowledge)
    assert app.form.options[0][0] == f"{FORM1} (3 candidates, 2 import(s))"


def test_an_unreadable_header_stops_there_and_blank_lines_are_capped(
    schemes: dict, monkeypatch: pytest.MonkeyPatch,
) -> None:
    utf16 = (HEADER + "CAND-00001,SIM-0001,MC1,ASR-01,2\n").encode("utf-16")
    parsed = parse_marks("m.csv", utf16, schemes, PEOPLE)
    assert [(f.pointer, f.code, f.message) for f in parsed.findings] == [
        ("line 1, byte 1", "unreadable", "holds a byte that is not UTF-8 (0xFF): save the file as CSV UTF-8")]
    monkeypatch.setattr(practice, "MAX_LINES", 50)
    parsed = parse_marks("m.csv", gzip.compress((HEADER + "\n" * 10_000).encode()), schemes)
    assert [(f.pointer, f.code) for f in parsed.findings] == [("line 51", "too-large")]
