"""A writer's unsaved new item survives a reload, in a real browser: the authoring notebook in
standalone Voila, Debian's Chromium driven by Playwright. The writer starts a new item, types,
reloads the page (a new kernel and a new editor), is offered the draft, restores it and saves it
under the id it was given."""

from __future__ import annotations

from pathlib import Path

from ..conftest import git
from .conftest import CHROMIUM, FLAGS, offline_page
from .test_authoring_browser import WRITER, authoring_voila, fill_item  # noqa: F401 - the served app

STEM = "For how long can a child stay in police protection under section 46?"


def test_a_reload_offers_the_unsaved_new_item_and_restores_it(
        authoring_voila: tuple[str, Path]) -> None:  # noqa: F811 - pytest passes the fixture
    from playwright.sync_api import expect, sync_playwright

    base, bank = authoring_voila
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = offline_page(browser, viewport={"width": 1300, "height": 2400})
        page.goto(base, timeout=120_000)
        expect(page.locator(".ib-saving-as")).to_contain_text(f"Saving as {WRITER}",
                                                              timeout=120_000)
        expect(page.locator(".ib-drafts")).to_have_count(0)  # nothing kept yet
        page.click(".ib-new")
        status = page.locator(".ib-status")
        expect(status).to_contain_text("GK-0001", timeout=60_000)
        fill_item(page, STEM)
        page.click(".ib-add-standard")
        # the kernel has it all (each change is kept as a draft before the checks rerun)
        expect(page.locator(".ib-standard-row select").nth(1)).to_have_value("FA-01 First",
                                                                             timeout=60_000)
        expect(status).to_contain_text("0 error(s)", timeout=60_000)
        expect(page.locator(".ib-preview-candidate")).to_contain_text(STEM, timeout=60_000)

        page.reload(timeout=120_000)  # a new kernel, a new editor: the typed text is not on it
        offer = page.locator(".ib-drafts select")
        expect(offer).to_be_visible(timeout=120_000)
        expect(page.locator(".ib-confirm")).to_contain_text("an unsaved draft")
        expect(offer).to_have_value("GK-0001 (new item)")
        expect(page.locator(".ib-stem textarea")).to_have_value("")
        page.click(".ib-restore")
        expect(page.locator(".ib-stem textarea")).to_have_value(STEM, timeout=60_000)
        expect(status).to_contain_text("GK-0001", timeout=60_000)
        expect(status).to_contain_text("unsaved changes")
        expect(status).to_contain_text("0 error(s)")
        expect(page.locator(".ib-option-text textarea").nth(1)).to_have_value("72 hours")
        expect(page.locator(".ib-option-key input[type=checkbox]").nth(1)).to_be_checked()
        expect(page.locator(".ib-drafts")).to_have_count(0)  # the offer is gone once taken
        page.click(".ib-save")
        expect(page.locator(".ib-result-ok")).to_contain_text("Saved GK-0001", timeout=60_000)
        browser.close()
    log = git(bank, "log", "-1", "--format=%an <%ae>|%s")
    assert log == f"{WRITER}|GK-0001: create item (draft)\n"
    assert STEM in (bank / "items" / "GK-0001.json").read_text()
