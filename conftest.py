"""Repository-wide pytest set-up: notebooks run by nbval open the bank from ITEMBANK_PATH, so
point it at a throwaway copy of the sample bank (tests never write to this repository)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLE_BANK, make_repo


def pytest_configure(config: pytest.Config) -> None:
    if "ITEMBANK_PATH" not in os.environ:
        tmp = Path(tempfile.mkdtemp(prefix="itembank-nb-"))
        bank = make_repo(tmp, SAMPLE_BANK, "item_bank")
        borrow_history(bank.parent)
        os.environ["ITEMBANK_PATH"] = str(bank)


def borrow_history(repo: Path) -> None:
    """Let the copy read this project's git objects (read-only, through git's alternates), as
    a clone could: a form's manifest names the bank commit it was assembled from, and results
    are scored against the items as they were at that commit (authoring_notebooks/results)."""
    try:
        common = subprocess.run(["git", "rev-parse", "--git-common-dir"], cwd=ROOT, check=True,
                                capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return  # not a git checkout: a notebook that needs the history says so
    info = repo / ".git" / "objects" / "info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "alternates").write_text(f"{(ROOT / common).resolve() / 'objects'}\n")
