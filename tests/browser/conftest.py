"""What every browser test shares: Debian's Chromium driven by Playwright (never a downloaded
browser), and a hardened standalone Voila over a fresh copy of the sample bank."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..conftest import SAMPLE_BANK, make_repo
from ..voila_server import Server, voila

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


def require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is not installed: run `make test`, which installs it")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """The panel apps served as `itembank serve` serves them, over a copy of the sample bank."""
    require_chromium()
    with voila(make_repo(tmp_path, SAMPLE_BANK, "item_bank"), tmp_path / "voila.log") as running:
        yield running


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


def offline_page(browser: Any, **options: Any) -> Any:
    """A new page that may reach only the local server: every other request is refused, so a
    test can never pass by fetching something from the network."""
    page = browser.new_page(**options)
    page.route("**/*", lambda route: route.continue_()
               if route.request.url.startswith("http://127.0.0.1") else route.abort())
    return page
