"""Blind keying in a real browser (Debian's Chromium) against the hardened standalone Voila that
`itembank serve` runs: the key reaches no websocket frame and no widget before the blind answer is
recorded; after a wrong answer, the key, a reload and re-opening the item, the first answer is
shown beside the key, the answer widgets are disabled, and the review records blind_match false."""

from __future__ import annotations

import json
import re
from typing import Any

from itembank.core.workflow import CRITERIA

from ..voila_server import Server
from .conftest import offline_page

LOAD = 120_000  # ms: a page's first render starts a kernel on a busy machine
STEP = 60_000




def secrets_of(item: dict[str, Any]) -> list[str]:
    """Plain-ASCII runs of the text only the keyed view shows (so JSON escaping cannot hide
    them in a frame), and the key's own markers."""
    texts = [item["rationale"], *(o.get("rationale", "") for o in item["options"])]
    runs = [max(re.findall(r"[A-Za-z0-9 ,]{20,}", t), key=len, default="") for t in texts]
    return ["Key:", "ib-key", *(r.strip() for r in runs if len(r.strip()) >= 20)]


def open_item(page: Any, server: Server, ident: str) -> None:
    from playwright.sync_api import expect

    page.goto(server.url("/voila/render/panel_review.ipynb"), timeout=LOAD)
    expect(page.locator(".ib-signin-name select")).to_be_visible(timeout=LOAD)
    page.select_option(".ib-signin-name select", label="Helen Marsh")
    page.click(".ib-signin")
    expect(page.locator(".ib-queue select option", has_text=ident)).to_have_count(1, timeout=STEP)
    label = page.locator(".ib-queue select option", has_text=ident).inner_text()
    page.select_option(".ib-queue select", label=label)
    page.click(".ib-open")
    expect(page.locator(".ib-blind-one")).to_be_visible(timeout=STEP)


def test_first_blind_answer_holds_across_a_reload(server: Server, browser: Any) -> None:
    from playwright.sync_api import expect

    item = json.loads((server.bank / "items" / "GK-0064.json").read_text())
    assert item["key"] == ["A"]
    secrets = secrets_of(item)
    assert len(secrets) >= 4
    frames: list[str] = []

    def collect(ws: Any) -> None:
        ws.on("framereceived", lambda payload: frames.append(
            payload if isinstance(payload, str) else bytes(payload).decode("utf-8", "replace")))

    page = offline_page(browser, viewport={"width": 1280, "height": 1800})
    page.on("websocket", collect)
    open_item(page, server, "GK-0064")
    # every blind widget starts empty, and the key is in no frame and nowhere on the page
    assert page.locator(".ib-blind-one input").count() == len(item["options"])
    assert page.locator(".ib-blind-one input:checked").count() == 0
    assert frames, "no websocket frame was collected"
    before = "\n".join(frames)
    assert [s for s in secrets if s in before] == []
    assert [s for s in secrets if s in page.content()] == []
    # a wrong blind answer, then the key
    page.locator(".ib-blind-one label", has_text=re.compile(r"^\s*B\s*$")).click()
    page.click(".ib-reveal")
    expect(page.locator(".ib-match")).to_contain_text("Your answer differs from the key", timeout=STEP)
    expect(page.locator(".ib-content")).to_contain_text("Key:", timeout=STEP)
    after = "\n".join(frames)
    assert [s for s in secrets[2:] if s in after] != []  # the frames do carry the key now

    # reload: a new page and a new kernel; the first answer stands beside the key
    page.reload(timeout=LOAD)
    open_item(page, server, "GK-0064")
    expect(page.locator(".ib-match")).to_contain_text(
        "Your blind answer (recorded earlier; it cannot be changed): B", timeout=STEP)
    expect(page.locator(".ib-match")).to_contain_text("Your answer differs from the key")
    expect(page.locator(".ib-content")).to_contain_text("Key:")
    expect(page.locator(".ib-reveal")).to_be_hidden()
    inputs = page.locator(".ib-blind-one input")
    for n in range(inputs.count()):
        expect(inputs.nth(n)).to_be_disabled()
    expect(page.locator(".ib-blind-one label", has_text=re.compile(r"^\s*B\s*$")).locator("input")
           ).to_be_checked()
    for criterion in CRITERIA["item"]:
        page.locator(f".ib-rating-{criterion}").get_by_text("Yes", exact=True).click()
    page.locator(".ib-decision").get_by_text("Request changes", exact=True).click()
    page.locator(".ib-comment textarea").fill("Option B reads as right too; make it clearly wrong.")
    page.locator(".ib-comment textarea").press("Tab")
    expect(page.locator(".ib-comment textarea")).to_have_value(
        "Option B reads as right too; make it clearly wrong.")
    page.click(".ib-submit")
    expect(page.locator(".ib-message")).to_contain_text("Recorded review", timeout=STEP)
    expect(page.locator(".ib-message")).to_contain_text("GK-0064 is now changes requested")
    page.close()
    reviews = sorted((server.bank / "reviews" / "GK-0064").glob("*.json"))
    assert len(reviews) == 1
    review = json.loads(reviews[0].read_text())
    assert review["blind_response"] == ["B"] and review["blind_match"] is False
    blind = sorted((server.bank / "reviews" / "GK-0064" / "blind").glob("*.json"))
    assert [json.loads(p.read_text())["response"] for p in blind] == [["B"]]
