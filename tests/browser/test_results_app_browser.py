"""The results app in a real browser: the sample administration of form 1 is imported into a
results folder outside the bank's repository, the app is served by the hardened standalone Voila
(`itembank serve`'s command, with $ITEMBANK_RESULTS naming that folder) and driven by Playwright
in Debian's Chromium: a results-team member signs in, picks the form, and sees a flagged item
and a DIF class C, and downloads the technical report. Every wait is for something on the page, never for time."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from ..conftest import ImportedSample, results_copy, sample_repo
from ..voila_server import Server, voila
from .conftest import offline_page, require_chromium

SHOTS = os.environ.get("ITEMBANK_SCREENSHOTS")  # a folder: save screenshots for the README
FORM = "practitioner-knowledge-live-2026-1"


@pytest.fixture
def results_server(
    imported_sample: ImportedSample, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Server]:
    require_chromium()
    bank = sample_repo(tmp_path)
    folder = results_copy(imported_sample.form1, tmp_path)  # the session's import of form 1
    monkeypatch.setenv("ITEMBANK_RESULTS", str(folder))  # the servers' environment inherits it
    with voila(bank, tmp_path / "voila.log") as running:
        yield running


def test_a_member_sees_a_flagged_item_and_a_dif_class_c(
    results_server: Server, browser: object
) -> None:
    page = offline_page(browser, viewport={"width": 1280, "height": 1600})
    page.goto(results_server.url("/voila/render/results.ipynb"), timeout=120_000)
    page.wait_for_selector(".ib-res-name select", timeout=120_000)
    page.select_option(".ib-res-name select", label="Rahul Menon")
    page.click(".ib-res-signin")
    expect(page.locator(".ib-signed-in")).to_contain_text("Rahul Menon", timeout=60_000)
    expect(page.locator(".ib-res-message")).to_contain_text("1 form(s) with results",
                                                            timeout=60_000)
    page.select_option(".ib-res-form select", label=f"{FORM} (2000 candidates, 1 import(s))")
    page.click(".ib-res-analyse")
    expect(page.locator(".ib-res-message")).to_contain_text(f"Analysed {FORM}", timeout=120_000)
    flagged = page.locator(".ib-res-items tr.ib-res-flagged").first
    expect(flagged).to_contain_text("AK-0009")
    expect(flagged).to_contain_text("sex: ETS class C DIF between female and male")
    dif_c = page.locator(".ib-res-dif tr.ib-dif-row-C").first
    expect(dif_c).to_contain_text("AK-0009")
    expect(dif_c.locator("td.ib-dif-C").first).to_have_text("C")
    expect(page.locator(".ib-res-distractors")).to_be_visible()
    expect(page.locator(".ib-res-icc")).to_be_visible()
    if SHOTS:  # the items, one item's plots and the DIF table
        page.locator(".ib-res-order").evaluate("e => e.scrollIntoView()")
        page.screenshot(path=f"{SHOTS}/results-app.png", full_page=False)
    page.click(".ib-res-report")  # the PDF is offered as a download from the page itself
    expect(page.locator(".ib-res-pdf")).to_be_visible(timeout=120_000)
    with page.expect_download(timeout=60_000) as download:
        page.click(".ib-res-pdf")
    assert download.value.suggested_filename.endswith("-technical-report.pdf")
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")
    page.close()
