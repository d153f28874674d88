"""Shared fixtures: real temporary git repositories holding copies of the test and sample banks
(tests never write to the project's own repository)."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
VALID_BANK = DATA / "valid" / "bank"
SAMPLE_BANK = ROOT / "item_bank"
SHARED = ROOT.parent / "shared"
SAMPLE_RESULTS = ROOT / "sample_results"
FORM1 = "practitioner-knowledge-live-2026-1"
FORM2 = "practitioner-knowledge-live-2026-2"
TESTER = "Test Runner <tester@example.org>"


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Test Runner", "GIT_AUTHOR_EMAIL": "tester@example.org",
           "GIT_COMMITTER_NAME": "Test Runner", "GIT_COMMITTER_EMAIL": "tester@example.org"}
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env=env).stdout


def _new_repo(repo: Path, source: Path, subdir: str) -> None:
    shutil.copytree(source, repo / subdir)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial bank")


# The project's own banks, each made into a repository once per process: hashing and writing
# the sample bank's 682 files as loose objects took most of every sample_bank_rw's set-up.
_TEMPLATES: dict[tuple[Path, str], Path] = {}
_FIXED = (SAMPLE_BANK, VALID_BANK)  # tests never write to these: a copy made once stays right


def make_repo(tmp: Path, source: Path, subdir: str = "bank") -> Path:
    """A new git repository with a copy of `source` at `subdir`, committed. Returns the bank.
    For the project's sample and valid banks it is a copy of a repository made once (objects
    packed, so the copy is a few files plus the work tree) whose index is then refreshed, so
    git's view of the work tree is as fresh as a new commit's."""
    repo = tmp / "repo"
    if source not in _FIXED:
        _new_repo(repo, source, subdir)
        return repo / subdir
    template = _TEMPLATES.get((source, subdir))
    if template is None:
        template = Path(tempfile.mkdtemp(prefix="itembank-tests-")) / "repo"
        atexit.register(shutil.rmtree, template.parent, True)
        _new_repo(template, source, subdir)
        git(template, "repack", "-a", "-d", "-q")
        _TEMPLATES[(source, subdir)] = template
    shutil.copytree(template, repo, symlinks=True)
    git(repo, "update-index", "-q", "--refresh")
    return repo / subdir


def sample_repo(tmp: Path) -> Path:
    """The sample bank in a new repository that can read this project's git objects (through
    git's alternates, as a clone could): the committed sample forms name the bank commit they
    were assembled from, and delivered results are scored against the items as they were there.
    Re-assembling the forms instead would not reproduce them once the assembler changes."""
    from conftest import borrow_history

    bank = make_repo(tmp, SAMPLE_BANK, "item_bank")
    borrow_history(bank.parent)
    return bank


@pytest.fixture
def valid_bank(tmp_path: Path) -> Path:
    """The small valid test bank, in a fresh repository, one folder below the top."""
    return make_repo(tmp_path, VALID_BANK)


@pytest.fixture(scope="session")
def sample_bank_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the sample bank in its own repository (read-only use)."""
    return make_repo(tmp_path_factory.mktemp("sample"), SAMPLE_BANK, "item_bank")


@pytest.fixture
def sample_bank_rw(tmp_path: Path) -> Path:
    """A copy of the sample bank that a test may change."""
    return make_repo(tmp_path, SAMPLE_BANK, "item_bank")


@pytest.fixture(scope="session")
def sample_repo_ro(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sample_repo once per session, for tests that only read the bank (results stores they
    write go outside its repository)."""
    return sample_repo(tmp_path_factory.mktemp("sample-repo"))


@dataclass(frozen=True)
class ImportedSample:
    """The whole sample administration imported once per session (an import of 2,000
    candidates is the slow part of many tests). The folders are read-only: a test that writes
    to a results folder takes its own copy with `results_copy`."""

    bank: Path  # sample_repo_ro: the bank the imports were scored against
    form1: Path  # a results folder holding form 1's responses only
    both: Path  # form 1's, then form 2's responses (the same form 1 files as `form1`)
    outcomes: dict[str, Any]  # form -> its ImportOutcome (form 2's into `both`)


@pytest.fixture(scope="session")
def imported_sample(sample_repo_ro: Path, tmp_path_factory: pytest.TempPathFactory) -> ImportedSample:
    """sample_results/ (responses and candidates of both forms) imported as `make
    sample-results` does, without the practice marks: form 1 into an empty folder, then a copy
    of that folder gets form 2."""
    from itembank import open_bank

    root = tmp_path_factory.mktemp("imported-sample")
    service = open_bank(sample_repo_ro).results
    outcomes = {}
    form1, both = root / "form1", root / "both"
    for form, folder in ((FORM1, form1), (FORM2, both)):
        if form == FORM2:
            shutil.copytree(form1, both)
        outcomes[form] = service.import_results(
            [SAMPLE_RESULTS / form / "responses.csv.gz"], form,
            SAMPLE_RESULTS / form / "candidates-SIMULATED.csv.gz", folder)
    return ImportedSample(sample_repo_ro, form1, both, outcomes)


def results_copy(source: Path, tmp: Path, name: str = "results") -> Path:
    """A private copy of a session results folder (a few MB of Parquet: far cheaper than
    importing again), for a test or module that writes to it."""
    return Path(shutil.copytree(source, tmp / name))


@pytest.fixture(scope="session")
def shared() -> Path:
    """../shared beside the project. In CI (CI=true, as .ci/run is run) its absence fails the
    tests that need it, so a green CI run never hides them; elsewhere they skip with the reason."""
    if not SHARED.is_dir():
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(f"../shared is missing at {SHARED}: CI needs it (the QTI schemas and "
                        "reference files). Check it out beside the project.", pytrace=False)
        pytest.skip(f"../shared is not present at {SHARED} (it is in CI)")
    return SHARED



@pytest.fixture(scope="session")
def qti_schemas(shared: Path) -> dict[str, Any]:
    """The official QTI and content-packaging XSDs from ../shared/qti-xsd, each loaded once per
    session (the QTI 3.0.1 schema takes about a second). IMS CP 1.1 imports IMS LOM 1.2, so a
    2.1 manifest's metadata is validated too, not skipped as unknown."""
    xsd = shared / "qti-xsd"
    return {
        "qti21": etree.XMLSchema(etree.parse(str(xsd / "qtiv2p1" / "imsqti_v2p1.xsd"))),
        "cp11": etree.XMLSchema(etree.parse(str(xsd / "imscp_v1p1.xsd"))),
        "cp30": etree.XMLSchema(etree.parse(str(xsd / "qtiv3p0" / "imsqtiv3p0_imscpv1p2_v1p0.xsd"))),
        # QTI 3.0.1: the ASI (item, test, stimulus) schema and its CP 1.2 profile
        "qti30": etree.XMLSchema(etree.parse(str(xsd / "qtiv3p0p1" / "imsqti_asiv3p0p1_v1p0.xsd"))),
        "cp301": etree.XMLSchema(etree.parse(str(xsd / "qtiv3p0p1" / "imsqtiv3p0_imscpv1p2_v1p0.xsd"))),
    }
