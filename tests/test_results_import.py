"""Results import (issue 12 parts 1, 2, 8): the three source formats, every refusal with its
exact findings, idempotent and all-or-nothing imports, two importers at once, a results folder
kept out of the content repository, and the sample administration."""

from __future__ import annotations

import csv
import fcntl
import gzip
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from lxml import etree

from itembank import open_bank
from itembank.forms.manifests import delivery_id
from itembank.forms.scoring import score
from itembank.results.importer import RawResponse, parse_qti
from itembank.results.matching import match
from itembank.results.service import ImportConflictError, ResultsImportError
from itembank.storage.resultstore import ENV, ResultsFolderError, ResultStore
from tests.conftest import ROOT, ImportedSample, git

FORM1 = "practitioner-knowledge-live-2026-1"
FORM2 = "practitioner-knowledge-live-2026-2"
SAMPLE = ROOT / "sample_results"
INVALID = Path(__file__).parent / "data" / "results_invalid"
ITEMBANK = Path(sys.executable).parent / "itembank"
COLUMNS = ["candidate", "item", "delivery_id", "content_hash", "position", "response", "omitted",
           "score", "platform_score", "max_score", "key"]


def _entries(manifest: dict) -> list[dict]:
    return [e for s in manifest["sections"] for e in s["items"]]


@pytest.fixture(scope="session")
def results_bank(sample_repo_ro: Path) -> Path:
    """The sample bank in its own repository, its two forms assembled again there (same
    blueprint, seed and pool, so the same items, versions and option orders, hence the same
    delivery ids as the committed sample, but recording a commit this repository holds).
    Shared by the session (conftest.sample_repo_ro): these tests only read the bank."""
    assert {m["id"] for m in open_bank(sample_repo_ro).forms.committed()} == {FORM1, FORM2}
    return sample_repo_ro


def _subset(tmp: Path, form: str, n: int = 5) -> tuple[Path, Path]:
    """The first n sample candidates of a form as plain CSVs (what the QTI examples hold)."""
    keep = {f"CAND-{i:05d}" for i in range(1 + (0 if form == FORM1 else 2000), n + 1 + (0 if form == FORM1 else 2000))}
    out = []
    for name in ("responses.csv.gz", "candidates-SIMULATED.csv.gz"):
        lines = gzip.decompress((SAMPLE / form / name).read_bytes()).decode().splitlines()
        kept = [lines[0]] + [line for line in lines[1:] if line.split(",")[0] in keep]
        target = tmp / name.replace(".gz", "")
        target.write_text("\n".join(kept) + "\n")
        out.append(target)
    return out[0], out[1]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != ".lock"}


# ---- the formats agree ------------------------------------------------------------------


def test_csv_qti30_and_qti21_store_the_same_rows(results_bank: Path, tmp_path: Path) -> None:
    bank = open_bank(results_bank)
    responses, candidates = _subset(tmp_path, FORM1)
    stored = {}
    for fmt, source in (("csv", responses), ("qti30", SAMPLE / FORM1 / "qti30"),
                        ("qti21", SAMPLE / FORM1 / "qti21")):
        outcome = bank.results.import_results([source], FORM1, candidates, tmp_path / fmt, fmt)
        assert (outcome.stored, outcome.candidates, outcome.responses) == (True, 5, 150)
        store = ResultStore(tmp_path / fmt)
        stored[fmt] = (sorted(store.rows("responses", FORM1, COLUMNS), key=repr),
                       sorted(store.rows("candidates", FORM1, ["candidate", "employer"])),
                       sorted(store.rows("characteristics", FORM1, ["candidate", "name", "value"])))
        assert [i["format"] for i in store.imports()] == [fmt]
    assert stored["csv"] == stored["qti30"] == stored["qti21"]
    rows, people, traits = stored["csv"]
    assert len(rows) == 150 and len(people) == 5 and len(traits) == 5 * 4
    # a multiple-response row: the CSV's shown letters became the item's own ids
    manifest = bank.forms.form(FORM1)
    entry = _entries(manifest)[0]  # GK-0060, options shown in a shuffled order
    with gzip.open(SAMPLE / FORM1 / "responses.csv.gz", "rt") as handle:
        first = next(r for r in csv.DictReader(handle) if r["item"] == delivery_id(entry))
    own = "|".join(sorted(entry["option_order"]["ABCDEFGH".index(x)] for x in first["response"].split("|")))
    assert next(r for r in rows if r[0] == first["candidate"] and r[1] == entry["id"])[5] == own


@pytest.mark.shared
def test_sample_qti_results_are_valid_against_the_official_schemas(shared: Path) -> None:
    for version, xsd in (("qti30", "qtiv3p0/imsqti_resultv3p0_v1p0.xsd"),
                         ("qti21", "qtiv2p1/imsqti_result_v2p1.xsd")):
        parser = etree.XMLParser(no_network=True, resolve_entities=False)
        schema = etree.XMLSchema(etree.parse(str(shared / "qti-xsd" / xsd), parser))
        files = sorted((SAMPLE / FORM1 / version).glob("*.xml"))
        assert len(files) == 5
        for path in files:
            doc = etree.parse(str(path), parser)
            assert schema.validate(doc), (path, schema.error_log)
        broken = etree.parse(str(files[0]), parser)
        broken.getroot()[0].tag = broken.getroot()[0].tag.replace("context", "contexts")
        assert not schema.validate(broken)  # the schema does reject a bad document


# ---- refusals: exact findings, nothing stored --------------------------------------------


@pytest.mark.parametrize("case", sorted(p.name for p in INVALID.iterdir()))
def test_each_refusal_names_the_place_and_the_fix(results_bank: Path, tmp_path: Path, case: str) -> None:
    folder = INVALID / case
    sources = sorted(str(p) for p in folder.iterdir() if p.name not in ("candidates.csv", "expected.json"))
    candidates = folder / "candidates.csv"
    with pytest.raises(ResultsImportError) as caught:
        open_bank(results_bank).results.import_results(
            sources, FORM1, candidates if candidates.exists() else None, tmp_path / "store")
    found = [{**f.to_dict(), "path": Path(f.path).name} for f in caught.value.findings]
    assert found == json.loads((folder / "expected.json").read_text())
    assert str(caught.value).startswith(f"Nothing was imported: {len(found)} problem(s)")
    assert not list((tmp_path / "store").rglob("*.parquet"))


def test_external_entities_are_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("B")
    doc = (f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>'
           '<assessmentResult xmlns="http://www.imsglobal.org/xsd/imsqti_result_v3p0">'
           '<context sourcedId="CAND-1"/><itemResult identifier="GK-0021" datestamp="2026-11-02" '
           'sessionStatus="final"><responseVariable identifier="RESPONSE" cardinality="single">'
           '<candidateResponse><value>&x;</value></candidateResponse></responseVariable>'
           '</itemResult></assessmentResult>')
    parsed = parse_qti("a.xml", doc.encode())
    assert parsed.findings == []
    assert [(r.candidate, r.item, r.values) for r in parsed.responses] == [("CAND-1", "GK-0021", ())]


def test_true_false_statements_in_shown_letters_and_in_ids_score_the_same() -> None:
    item = {"id": "GK-9001", "format": "multiple_true_false",
            "options": [{"id": s, "text": s} for s in ("s1", "s2", "s3")],
            "key": {"s1": True, "s2": False, "s3": True},
            "scoring": {"max_score": 3, "rule": "partial_credit"}}
    entry = {"id": "GK-9001", "content_hash": "0" * 64, "option_order": ["s2", "s3", "s1"],
             "key": {}, "max_score": 3}
    manifest = {"sections": [{"items": [entry]}]}
    shown = RawResponse("C1", None, "GK-9001", ("A=T", "B=F", "C=T"), "shown", 2.0, "line 2", "r.csv")
    ids = parse_qti("a.xml", (
        b'<assessmentResult xmlns="http://www.imsglobal.org/xsd/imsqti_result_v2p1">'
        b'<context sourcedId="C2"/><itemResult identifier="GK-9001" datestamp="d" '
        b'sessionStatus="final"><responseVariable identifier="RESPONSE" cardinality="multiple" '
        b'baseType="directedPair"><candidateResponse><value>s2 TRUE</value><value>s3 FALSE'
        b'</value><value>s1 TRUE</value></candidateResponse></responseVariable></itemResult>'
        b'</assessmentResult>')).responses
    out = match("f", manifest, {"GK-9001": item}, [shown, *ids], None, score, delivery_id)
    assert out.errors == []
    assert list(zip(out.responses["candidate"], out.responses["response"], out.responses["score"], strict=True)) == [
        ("C1", "s1=T|s2=T|s3=F", 1.0), ("C2", "s1=T|s2=T|s3=F", 1.0)]
    assert [d.message for d in out.disagreements] == [
        "candidate C1, item GK-9001: the platform scored 2, the bank's key (s1=T|s2=F|s3=T) "
        "gives 1 for s1=T|s2=T|s3=F"]


# ---- idempotence, conflicts, concurrency --------------------------------------------------


def test_importing_the_same_source_again_changes_nothing(results_bank: Path, tmp_path: Path) -> None:
    bank = open_bank(results_bank)
    responses, candidates = _subset(tmp_path, FORM1)
    first = bank.results.import_results([responses], FORM1, candidates, tmp_path / "store")
    before = _snapshot(tmp_path / "store")
    again = bank.results.import_results([responses], FORM1, candidates, tmp_path / "store")
    assert (first.stored, again.stored, again.import_id) == (True, False, first.import_id)
    assert _snapshot(tmp_path / "store") == before
    assert len([p for p in before if p.endswith(".parquet")]) == 4


def test_a_different_source_for_the_same_candidates_is_a_conflict(results_bank: Path, tmp_path: Path) -> None:
    bank = open_bank(results_bank)
    responses, candidates = _subset(tmp_path, FORM1)
    first = bank.results.import_results([responses], FORM1, candidates, tmp_path / "store")
    before = _snapshot(tmp_path / "store")
    with pytest.raises(ImportConflictError) as caught:
        bank.results.import_results([SAMPLE / FORM1 / "qti30"], FORM1, candidates, tmp_path / "store")
    assert str(caught.value) == (
        f"Form {FORM1} already has results for candidates in this file (5 in import "
        f"{first.import_id[:12]}), from a different source. A candidate's sitting comes from one "
        "import: if this file corrects that one, remove the earlier import first (`itembank "
        "results remove IMPORT`); if these are other candidates, check the ids.")
    assert _snapshot(tmp_path / "store") == before
    bank.results.remove(first.import_id[:8], tmp_path / "store")
    assert not list((tmp_path / "store").rglob("*.parquet"))
    second = bank.results.import_results([SAMPLE / FORM1 / "qti30"], FORM1, candidates, tmp_path / "store")
    assert [i["import_id"] for i in bank.results.imports(tmp_path / "store")] == [second.import_id]


def _start(bank: Path, store: Path, source: Path, candidates: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(ITEMBANK), "results", "import", str(source), "--form", FORM1, "--candidates",
         str(candidates), "--results", str(store), "--bank", str(bank), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_importers_at_once_leave_one_consistent_store(results_bank: Path, tmp_path: Path) -> None:
    responses, candidates = _subset(tmp_path, FORM1)
    store = tmp_path / "store"
    # the same candidates from two different sources: exactly one may win
    runs = [_start(results_bank, store, s, candidates) for s in (responses, SAMPLE / FORM1 / "qti21")]
    done = sorted((p.wait(timeout=300), p.communicate()) for p in runs)
    assert [code for code, _ in done] == [0, 1]
    assert "already has results for candidates in this file" in done[1][1][1]
    imports = ResultStore(store).imports()
    assert len(imports) == 1 and imports[0]["responses"] == 150
    assert len(ResultStore(store).rows("responses", FORM1, ["candidate"])) == 150
    assert len(list(store.rglob("*.parquet"))) == 4 and not list((store / ".tmp").iterdir())
    # the same source twice at once: one stores it, the other finds it there
    runs = [_start(results_bank, tmp_path / "again", responses, candidates) for _ in range(2)]
    outs = sorted(p.communicate(timeout=300)[0].split(":")[0] for p in runs)
    assert [p.returncode for p in runs] == [0, 0]
    assert outs == ["Already imported (nothing changed)", f"Imported {FORM1}"]
    assert len(ResultStore(tmp_path / "again").imports()) == 1


def _blocked_on_a_lock(pid: int) -> bool:
    """Whether process `pid` waits for a file lock (Linux lists waiters with '->')."""
    lines = Path("/proc/locks").read_text().splitlines()
    return any("->" in line and f" {pid} " in line for line in lines)


def test_an_importer_waits_for_the_lock_and_writes_nothing_before(results_bank: Path,
                                                                  tmp_path: Path) -> None:
    responses, candidates = _subset(tmp_path, FORM1)
    store = tmp_path / "store"
    store.mkdir()
    with (store / ".lock").open("a+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as another importer would
        run = _start(results_bank, store, responses, candidates)
        deadline = time.monotonic() + 300  # a bound on waiting for the state, not a timing assert
        while not _blocked_on_a_lock(run.pid) and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _blocked_on_a_lock(run.pid) and run.poll() is None
        assert not list(store.rglob("*.parquet"))
        fcntl.flock(held, fcntl.LOCK_UN)
    out, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    assert out.startswith(f"Imported {FORM1}: 5 candidate(s)")
    assert len(ResultStore(store).imports()) == 1


# ---- the results folder stays out of the content repository -------------------------------


def test_a_results_folder_inside_the_repository_is_refused(results_bank: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    bank = open_bank(results_bank)
    repo = results_bank.parent
    for inside in (results_bank / "results", repo, repo / "elsewhere" / "deep"):
        with pytest.raises(ResultsFolderError) as caught:
            bank.results.store(inside)
        assert str(caught.value) == (
            f"The results folder {inside} is inside the bank's git repository ({repo}): "
            "candidate-level results must stay out of the content repository. Choose a folder "
            f"outside it with --results DIR or ${ENV} (default: {repo.parent / 'repo-results'}).")
    monkeypatch.setenv(ENV, str(results_bank / "x"))
    with pytest.raises(ResultsFolderError):
        bank.results.store()
    responses, _candidates = _subset(tmp_path, FORM1)
    run = subprocess.run([str(ITEMBANK), "results", "import", str(responses), "--form", FORM1,
                          "--bank", str(results_bank)], capture_output=True, text=True)
    assert run.returncode == 2 and "inside the bank's git repository" in run.stderr
    assert not (results_bank / "x").exists()


def test_an_import_leaves_the_bank_repository_clean(results_bank: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    repo = results_bank.parent
    head = git(repo, "rev-parse", "HEAD")
    responses, candidates = _subset(tmp_path, FORM1, n=3)
    outcome = open_bank(results_bank).results.import_results([responses], FORM1, candidates)
    try:
        assert outcome.folder == repo.parent / "repo-results"
        assert (outcome.folder / "imports" / f"{outcome.import_id}.parquet").is_file()
        assert git(repo, "status", "--porcelain", "--ignored") == ""
        assert git(repo, "rev-parse", "HEAD") == head
    finally:
        shutil.rmtree(outcome.folder)


# ---- the command ---------------------------------------------------------------------------


def test_the_command_summarises_and_exits_like_the_others(results_bank: Path, tmp_path: Path) -> None:
    responses, candidates = _subset(tmp_path, FORM1)
    base = [str(ITEMBANK), "results"]
    where = ["--bank", str(results_bank), "--results", str(tmp_path / "store")]
    run = subprocess.run([*base, "import", str(responses), "--form", FORM1, "--candidates",
                          str(candidates), *where], capture_output=True, text=True)
    import_id = ResultStore(tmp_path / "store").imports()[0]["import_id"]
    assert run.returncode == 0, run.stderr
    assert run.stdout == (
        f"Imported {FORM1}: 5 candidate(s), 150 response(s) (2 omitted), 0 disagreement(s) with "
        f"the platform's score. Import {import_id[:12]} in {tmp_path / 'store'}.\n")
    assert run.stderr.splitlines() == ["  read 1 file(s), 0.0 MB", "  parsed 150 response(s)",
                                       "  matched and re-scored 150 response(s)", "  stored"]
    bad = INVALID / "no-such-option"
    run = subprocess.run([*base, "import", str(bad / "responses.csv"), "--form", FORM1,
                          "--candidates", str(bad / "candidates.csv"), "--quiet", *where],
                         capture_output=True, text=True)
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.splitlines()[0] == (
        "itembank: Nothing was imported: 2 problem(s) in the source. Correct them and import again:")
    assert run.stderr.splitlines()[1].endswith(
        "responses.csv: line 4: no-such-option: candidate CAND-2, item GK-0021: 'E' names no "
        "option of the item (its letters ABCD)")
    run = subprocess.run([*base, "import", str(responses), "--form", "no-such-form", *where],
                         capture_output=True, text=True)
    assert run.returncode == 2 and "No form no-such-form in the bank" in run.stderr
    run = subprocess.run([*base, "list", "--output", "json", *where], capture_output=True, text=True)
    assert run.returncode == 0
    assert [(i["form"], i["candidates"], i["responses"]) for i in json.loads(run.stdout)["imports"]] == [
        (FORM1, 5, 150)]
    assert subprocess.run([*base, "import", "--help"], capture_output=True).returncode == 0


# ---- the sample administration ---------------------------------------------------------------


def test_the_sample_administration_imports_with_its_planted_disagreements(
        imported_sample: ImportedSample) -> None:
    """The session's import of both forms (conftest.imported_sample: form 1 into an empty
    folder, then form 2 beside it, as this test did itself) and what it stored."""
    bank = open_bank(imported_sample.bank)
    for form, omitted, store in ((FORM1, 596, imported_sample.form1), (FORM2, 616, imported_sample.both)):
        outcome = imported_sample.outcomes[form]
        assert outcome.stored and outcome.folder == store
        assert (outcome.candidates, outcome.responses, outcome.omitted) == (2000, 60000, omitted)
        with (SAMPLE / form / "parameters.csv").open() as handle:
            planted = {r["item"]: int(r["planted_disagreements"]) for r in csv.DictReader(handle)}
        assert len(outcome.disagreements) == sum(planted.values()) == 7
        by_item: dict[str, int] = {}
        for finding in outcome.disagreements:
            item = finding.message.split("item ")[1].split(":")[0]
            by_item[item] = by_item.get(item, 0) + 1
        assert by_item == {i: n for i, n in planted.items() if n}
        matrix = bank.results.matrix(form, store)
        assert matrix.scores.shape == (2000, 30) and int(matrix.omitted.sum()) == omitted
        assert matrix.candidates == tuple(sorted(matrix.candidates))
        total = ResultStore(store).aggregate("responses", form, "SELECT sum(score) FROM t")[0][0]
        assert matrix.totals.sum() == pytest.approx(total)
        assert matrix.keys is not None and matrix.choices is not None
        assert all(matrix.choices[i, j] is None for i, j in zip(*np.nonzero(matrix.omitted), strict=False))
        traits = bank.results.characteristics(form, store)
        assert sorted(traits) == ["age_band", "disability", "ethnic_group", "sex"]
        with gzip.open(SAMPLE / form / "candidates-SIMULATED.csv.gz", "rt") as handle:
            listed = {r["candidate"]: r for r in csv.DictReader(handle)}
        assert traits["sex"] == [listed[c]["sex"] for c in matrix.candidates]
        assert bank.results.employers(form, store) == [listed[c]["employer"] for c in matrix.candidates]
    assert sorted(i["form"] for i in bank.results.imports(store)) == [FORM1, FORM2]


def test_the_sample_files_stay_small() -> None:
    sizes = {str(p.relative_to(SAMPLE)): p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file()}
    assert sum(sizes.values()) < 2_000_000, sizes
