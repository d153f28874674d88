"""A writer's session in a real browser: the authoring notebook rendered by standalone Voila on
127.0.0.1, driven by Playwright in Debian's Chromium. Fills in a new item, saves it and finds
the writer's commit in the bank's git log."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..conftest import ROOT, git, make_repo
from .conftest import CHROMIUM, FLAGS, offline_page, require_chromium

WRITER = "Browser Writer <browser.writer@example.org>"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def authoring_voila(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    require_chromium()
    bank = make_repo(tmp_path, ROOT / "tests" / "data" / "valid" / "bank")
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    shutil.copy(ROOT / "authoring_notebooks" / "write_items.ipynb", notebooks)
    port = _free_port()
    voila = str(Path(sys.executable).parent / "voila")
    env = {**os.environ, "ITEMBANK_PATH": str(bank), "JUPYTERHUB_USER": WRITER}
    log = open(tmp_path / "voila.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [voila, "write_items.ipynb", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
         "--show_tracebacks=False", "--strip_sources=True"],
        cwd=notebooks, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(base, timeout=5).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("Voila did not start: " + (tmp_path / "voila.log").read_text())
                time.sleep(0.5)
        yield base, bank
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def fill_item(page: Any, stem: str) -> None:
    """Type a whole single-best-answer item into the open editor (its standard still to add)."""
    page.fill(".ib-stem textarea", stem)
    options = page.locator(".ib-option-text textarea")
    rationales = page.locator(".ib-option-rationale textarea")
    for index, (text, why) in enumerate([("24 hours", "Too short."), ("72 hours", "Right."),
                                         ("8 days", "That is an EPO."),
                                         ("7 days", "That is a CAO.")]):
        options.nth(index).fill(text)
        rationales.nth(index).fill(why)
    page.locator(".ib-option-key input[type=checkbox]").nth(1).check()
    page.fill(".ib-rationale textarea", "Section 46(6): no longer than 72 hours.")


def test_a_writer_creates_and_saves_an_item_in_the_browser(
        authoring_voila: tuple[str, Path]) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, bank = authoring_voila
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = offline_page(browser, viewport={"width": 1300, "height": 2400})
        page.goto(base, timeout=120_000)
        expect(page.locator(".ib-new")).to_be_visible(timeout=120_000)
        page.click(".ib-new")
        status = page.locator(".ib-status")
        expect(status).to_contain_text("unsaved changes", timeout=60_000)
        fill_item(page, "How long can police protection last under section 46?")
        expect(page.locator(".ib-rationale textarea")).to_have_value(
            "Section 46(6): no longer than 72 hours.")
        page.click(".ib-add-standard")
        # the kernel has the standard (its row is drawn) and has re-checked the whole item
        expect(page.locator(".ib-standard-row select").nth(1)).to_have_value("FA-01 First",
                                                                             timeout=60_000)
        expect(status).to_contain_text("0 error(s)", timeout=60_000)
        page.click(".ib-save")
        expect(page.locator(".ib-result-ok")).to_contain_text("Saved GK-0001", timeout=60_000)
        assert "<script" not in page.inner_html(".ib-preview-candidate")
        page.screenshot(path=str(bank.parent / "authoring.png"))
        browser.close()
    log = git(bank, "log", "-1", "--format=%an <%ae>|%s")
    assert log == f"{WRITER}|GK-0001: create item (draft)\n"
    assert (bank / "items" / "GK-0001.json").is_file()
