"""Shared fixtures: real temporary git repositories holding copies of the test and sample banks
(tests never write to the project's own repository)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
VALID_BANK = DATA / "valid" / "bank"
SAMPLE_BANK = ROOT / "item_bank"
SHARED = ROOT.parent / "shared"
TESTER = "Test Runner <tester@example.org>"


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Test Runner", "GIT_AUTHOR_EMAIL": "tester@example.org",
           "GIT_COMMITTER_NAME": "Test Runner", "GIT_COMMITTER_EMAIL": "tester@example.org"}
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env=env).stdout


def make_repo(tmp: Path, source: Path, subdir: str = "bank") -> Path:
    """A new git repository with a copy of `source` at `subdir`, committed. Returns the bank."""
    repo = tmp / "repo"
    bank = repo / subdir
    shutil.copytree(source, bank)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial bank")
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
def shared() -> Path:
    """../shared beside the project. In CI (CI=true, as .ci/run is run) its absence fails the
    tests that need it, so a green CI run never hides them; elsewhere they skip with the reason."""
    if not SHARED.is_dir():
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(f"../shared is missing at {SHARED}: CI needs it (the QTI schemas and "
                        "reference files). Check it out beside the project.", pytrace=False)
        pytest.skip(f"../shared is not present at {SHARED} (it is in CI)")
    return SHARED

