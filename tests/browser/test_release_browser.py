"""The release app in a real browser: the hardened standalone Voila (`itembank serve`'s command)
serves the release notebook over a copy of the sample bank, driven by Playwright in Debian's
Chromium. A results-team member signs in, picks the form, sees the counts, opens a letter
(rendered inside the app, marked DRAFT) and approves the release; the commit by that member
with the release record is then in the bank.

The decisions, points and learning points come from tests/letters_inputs.py (hand-made, as the
decision, subscore and learning steps of issue 13 will give them): the served notebook is
review_apps/release.ipynb with the app handed those inputs. Once those steps are merged, the
same test can serve review_apps/release.ipynb itself over imported sample results. Every wait
is for something on the page, never for time."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from ..conftest import ROOT, SAMPLE_BANK, git, make_repo
from ..letters_inputs import ADMIN, FORM
from ..voila_server import APPS, Server, voila
from .conftest import offline_page, require_chromium

SHOTS = os.environ.get("ITEMBANK_SCREENSHOTS")  # a folder: save screenshots for the README
MEMBER = "Eleanor Lindqvist <eleanor.lindqvist@example.org>"


def hand_made_notebook(apps: Path, commit: str) -> None:
    """release.ipynb with the app given the hand-made inputs (the adopted mark at `commit`)."""
    notebook = json.loads((APPS / "release.ipynb").read_text())
    notebook["cells"][1]["source"] = [
        "import sys\n",
        f"sys.path.insert(0, {str(ROOT)!r})\n",
        "from tests.letters_inputs import HandMade, adopted, cohort\n",
        f"ReleaseApp(open_bank(), HandMade(cohort(), adopted({commit!r}))).show()",
    ]
    (apps / "release.ipynb").write_text(json.dumps(notebook, indent=1))


@pytest.fixture
def release_server(tmp_path: Path) -> Iterator[Server]:
    require_chromium()
    bank = make_repo(tmp_path, SAMPLE_BANK, "item_bank")
    apps = tmp_path / "apps"
    shutil.copytree(APPS, apps)
    hand_made_notebook(apps, git(bank, "rev-parse", "HEAD").strip())
    with voila(bank, tmp_path / "voila.log", apps=apps) as running:
        yield running


def test_a_member_reviews_a_letter_and_approves_the_release(
    release_server: Server, browser: object
) -> None:
    page = offline_page(browser, viewport={"width": 1280, "height": 1600})
    page.goto(release_server.url("/voila/render/release.ipynb"), timeout=120_000)
    page.wait_for_selector(".ib-rel-name select", timeout=120_000)
    page.select_option(".ib-rel-name select", label="Eleanor Lindqvist")
    page.click(".ib-rel-signin")
    expect(page.locator(".ib-signed-in")).to_contain_text("Eleanor Lindqvist", timeout=60_000)
    page.select_option(".ib-rel-form select", label=FORM)
    page.click(".ib-rel-open")
    expect(page.locator(".ib-rel-message")).to_contain_text("13 letter(s)", timeout=120_000)
    expect(page.locator(".ib-rel-count-met")).to_contain_text("5")
    expect(page.locator(".ib-rel-count-not_met")).to_contain_text("8")
    expect(page.locator(".ib-rel-count-pending")).to_contain_text("1")
    page.select_option(".ib-rel-candidate select", label="CAND-00004")
    letter = page.frame_locator(".ib-rel-letter iframe")
    expect(letter.locator("h1")).to_have_text("Your result: Not met", timeout=60_000)
    expect(letter.locator(".ib-letter-head")).to_contain_text("CAND-00004")
    expect(letter.locator(".ib-draft")).to_contain_text("DRAFT")
    expect(letter.locator("h2").first).to_have_text("Your result in each part")
    report = page.frame_locator(".ib-rel-report iframe")
    expect(report.locator("h1")).to_contain_text("Thematic report")
    if SHOTS:
        page.locator(".ib-rel-counts").evaluate("e => e.scrollIntoView()")
        page.screenshot(path=f"{SHOTS}/release-app.png", full_page=False)
    page.click(".ib-rel-approve")
    confirm = page.locator(".ib-rel-confirm")
    expect(confirm).to_contain_text("Yes, release 13 letter(s)", timeout=60_000)
    confirm.click()
    expect(page.locator(".ib-rel-message")).to_contain_text("Released: commit", timeout=120_000)
    expect(page.locator(".ib-rel-status")).to_contain_text("Released by Eleanor Lindqvist")
    expect(letter.locator(".ib-draft")).to_have_count(0)  # the letter as released now
    page.close()
    bank = release_server.bank
    author = git(bank, "log", "-1", "--format=%an <%ae>|%s").strip()
    assert author.startswith(f"{MEMBER}|release: {ADMIN} letters (5 met, 8 not met, 1 pending)")
    record = json.loads((bank / "releases" / f"{ADMIN}.json").read_text())
    assert record["approved_by"] == MEMBER and record["letters"]["count"] == 13
    assert record["counts"] == {"candidates": 14, "met": 5, "not_met": 8, "pending": 1}
