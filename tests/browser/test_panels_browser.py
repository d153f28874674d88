"""Panels in a real browser: the apps served by the hardened standalone Voila (`itembank serve`'s
command) on 127.0.0.1, driven by Playwright in Debian's Chromium. Two reviewers approve an item
(blind keying first); judges in both panels rate one standard-setting round. Asserts the git
commits and the records."""

from __future__ import annotations

import json
import os

from playwright.sync_api import expect

from itembank import open_bank
from itembank.core.workflow import CRITERIA

from ..conftest import git
from ..voila_server import Server
from .conftest import offline_page

SHOTS = os.environ.get("ITEMBANK_SCREENSHOTS")  # a folder: save screenshots for the README




def new_page(browser: object, server: Server, app: str):  # type: ignore[no-untyped-def]
    page = offline_page(browser, viewport={"width": 1280, "height": 1800})
    page.goto(server.url(f"/voila/render/{app}"), timeout=120_000)
    return page


def review(browser: object, server: Server, name: str, shot: str | None = None) -> str:
    item = json.loads((server.bank / "items" / "GK-0064.json").read_text())
    page = new_page(browser, server, "panel_review.ipynb")
    page.wait_for_selector(".ib-signin-name select", timeout=120_000)
    page.select_option(".ib-signin-name select", label=name)
    page.click(".ib-signin")
    page.wait_for_selector(".ib-queue select option", timeout=60_000)
    label = page.locator(".ib-queue select option", has_text="GK-0064").inner_text()
    page.select_option(".ib-queue select", label=label)
    page.click(".ib-open")
    page.wait_for_selector(".ib-blind-one", timeout=60_000)
    html = page.content()
    assert item["rationale"][:50] not in html and "Key:" not in html  # blind: no key yet
    assert "ib-keyed" not in html
    page.locator(".ib-blind-one").get_by_text("A", exact=True).click()
    page.click(".ib-reveal")
    expect(page.locator(".ib-blind-ok")).to_be_visible(timeout=60_000)
    expect(page.locator(".ib-content")).to_contain_text("Key:", timeout=60_000)
    for criterion in CRITERIA["item"]:
        page.locator(f".ib-rating-{criterion}").get_by_text("Yes", exact=True).click()
    page.locator(".ib-decision").get_by_text("Approve", exact=True).click()
    if shot:
        page.screenshot(path=shot, full_page=False)
    page.click(".ib-submit")
    expect(page.locator(".ib-message .ib-msg-ok")).to_contain_text("GK-0064", timeout=60_000)
    message = page.inner_text(".ib-message")
    page.close()
    return message


def test_two_reviewers_approve_an_item_in_the_browser(server: Server, browser: object) -> None:
    first = review(browser, server, "Helen Marsh",
                   f"{SHOTS}/panel-review.png" if SHOTS else None)
    assert "GK-0064 stays in review (1 of 2" in first, first
    second = review(browser, server, "Gareth Price")
    assert "GK-0064 is now approved" in second, second
    log = git(server.bank.parent, "log", "-4", "--format=%an <%ae>|%s").splitlines()
    assert log == [  # each blind answer is committed before that reviewer sees the key
        "Gareth Price <gareth.price@example.org>|GK-0064: approve (review by Gareth Price); "
        "approved: review policy met",
        "Gareth Price <gareth.price@example.org>|GK-0064: blind answer by Gareth Price",
        "Helen Marsh <helen.marsh@example.org>|GK-0064: approve (review by Helen Marsh)",
        "Helen Marsh <helen.marsh@example.org>|GK-0064: blind answer by Helen Marsh",
    ]
    reviews = [json.loads(p.read_text()) for p in (server.bank / "reviews/GK-0064").glob("*.json")]
    blind = [json.loads(p.read_text()) for p in (server.bank / "reviews/GK-0064/blind").glob("*.json")]
    assert sorted((b["reviewer"].split()[0], b["response"]) for b in blind) == [
        ("Gareth", ["A"]), ("Helen", ["A"])]
    assert sorted(r["reviewer"].split()[0] for r in reviews) == ["Gareth", "Helen"]
    assert all(r["blind_match"] and r["blind_response"] == ["A"] for r in reviews)
    assert json.loads((server.bank / "items/GK-0064.json").read_text())["status"] == "approved"


def test_judges_in_both_panels_rate_a_round_in_the_browser(server: Server, browser: object) -> None:
    items = ["GK-0001", "GK-0002", "GK-0003"]
    open_bank(server.bank).standard_setting.open("pk-2026", "Practitioner knowledge",
                                         "Priya Shah <priya.shah@example.org>", items=items)
    for name, values in (("Joanne Kelly", "0.6"), ("Claire Benson", "0.7")):
        page = new_page(browser, server, "standard_setting.ipynb")
        page.wait_for_selector(".ib-ss-judge-name select", timeout=120_000)
        page.select_option(".ib-ss-judge-name select", label=name)
        page.click(".ib-ss-signin-judge")
        page.wait_for_selector(".ib-ss-start", timeout=60_000)
        page.click(".ib-ss-start")
        page.wait_for_selector(".ib-ss-value-GK-0003 input", timeout=60_000)
        for item in items:
            page.fill(f".ib-ss-value-{item} input", values)
            page.press(f".ib-ss-value-{item} input", "Tab")
            expect(page.locator(f".ib-ss-value-{item} input")).to_have_value(values)
        page.click(".ib-ss-submit")
        expect(page.locator(".ib-ss-submit-message")).to_contain_text(
            "Recorded your round 1 ratings", timeout=60_000)
        # the feedback is filled after the message: wait for its content, not the message
        expect(page.locator(".ib-ss-feedback")).to_contain_text(
            "Your panel in round 1 (1 judges", timeout=60_000)
        if SHOTS and name == "Claire Benson":
            page.locator(".ib-standard-setting-app").evaluate("e => e.scrollIntoView()")
            page.screenshot(path=f"{SHOTS}/standard-setting.png")
        page.close()
    log = git(server.bank.parent, "log", "-2", "--format=%an|%s").splitlines()
    assert log == [
        "Claire Benson|standard setting pk-2026: round 1 ratings by Claire Benson (standard-setting-2)",
        "Joanne Kelly|standard setting pk-2026: round 1 ratings by Joanne Kelly (standard-setting-1)",
    ]
    ratings = [json.loads(p.read_text()) for p in (server.bank / "standard_setting/pk-2026/ratings").iterdir()]
    assert sorted((r["panel"], r["ratings"][0]["value"]) for r in ratings) == [
        ("standard-setting-1", 0.6), ("standard-setting-2", 0.7)]
    if SHOTS:
        page = new_page(browser, server, "coverage.ipynb")
        page.wait_for_selector(".ib-cov-waiting table", timeout=120_000)
        page.screenshot(path=f"{SHOTS}/coverage.png")
        page.close()


def test_a_judge_enters_acceptable_ranges_in_the_browser(server: Server, browser: object) -> None:
    open_bank(server.bank).standard_setting.open("pk-ranges", "Ranges", "Priya Shah <priya.shah@example.org>",
                                                 items=["GK-0001", "GK-0002"], rounds=1)
    page = new_page(browser, server, "standard_setting.ipynb")
    page.wait_for_selector(".ib-ss-judge-name select", timeout=120_000)
    page.select_option(".ib-ss-judge-name select", label="Fiona Grant")
    page.click(".ib-ss-signin-judge")
    page.wait_for_selector(".ib-ss-exercise select", timeout=60_000)
    page.select_option(".ib-ss-exercise select", label="Ranges (pk-ranges)")
    page.click(".ib-ss-start")
    page.wait_for_selector(".ib-ss-value-GK-0002 input", timeout=60_000)
    for item in ("GK-0001", "GK-0002"):
        page.fill(f".ib-ss-value-{item} input", "0.55")
        page.press(f".ib-ss-value-{item} input", "Tab")
        expect(page.locator(f".ib-ss-value-{item} input")).to_have_value("0.55")
    page.click(".ib-ss-submit")
    expect(page.locator(".ib-ss-ranges")).to_be_visible(timeout=60_000)
    for key, value in (("pass_mark_min", "50"), ("pass_mark_max", "70"), ("rate_min", "10"),
                       ("rate_max", "30"), ("pass_mark", "60"), ("pass_rate", "78")):
        page.fill(f".ib-ss-range-{key} input", value)
        page.press(f".ib-ss-range-{key} input", "Tab")
        expect(page.locator(f".ib-ss-range-{key} input")).to_have_value(value)
    page.click(".ib-ss-ranges-submit")
    expect(page.locator(".ib-ss-ranges-message")).to_contain_text("Recorded your ranges", timeout=60_000)
    page.close()
    assert git(server.bank.parent, "log", "-1", "--format=%an|%s").strip() == (
        "Fiona Grant|standard setting pk-ranges: ranges by Fiona Grant")
    [saved] = [json.loads(p.read_text()) for p in (server.bank / "standard_setting/pk-ranges/ranges").iterdir()]
    assert (saved["pass_mark_min"], saved["fail_rate_max"], saved["pass_rate"]) == (50, 30, 78)
