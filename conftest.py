"""Repository-wide pytest set-up: notebooks run by nbval open the bank from ITEMBANK_PATH, so
point it at a throwaway copy of the sample bank (tests never write to this repository)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_BANK, make_repo


def pytest_configure(config: pytest.Config) -> None:
    if "ITEMBANK_PATH" not in os.environ:
        tmp = Path(tempfile.mkdtemp(prefix="itembank-nb-"))
        os.environ["ITEMBANK_PATH"] = str(make_repo(tmp, SAMPLE_BANK, "item_bank"))
