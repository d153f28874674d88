"""Many HTML documents to PDF in ONE headless chromium session (Playwright driving Debian's
chromium, never a downloaded browser): measured 0.17 s a letter here, against 2.9 s when a new
chromium prints each one (forms/exporters/pdf.py's way, fine for a handful of papers, an hour
and a half for 2,000 letters). Dates fixed and structure ids steadied as the papers' printer
does, so the same document gives the same bytes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from itembank.core.errors import ItembankError
from itembank.core.render import fixed_pdf_dates, steady_node_ids

#: the PDFs' fixed creation time: the same letter gives the same bytes on every run
STAMP = "1980-01-01T00:00:00Z"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


class BatchPrinter:
    """`with BatchPrinter().session() as p: p.print(html)`: one browser for the whole run,
    one page reused for every document; nothing is fetched (every request is refused)."""

    def __init__(self) -> None:
        self._page: Any = None

    @contextmanager
    def session(self) -> Iterator[BatchPrinter]:
        from playwright.sync_api import sync_playwright

        executable = os.environ.get("ITEMBANK_CHROMIUM") or "/usr/bin/chromium"
        if not Path(executable).is_file():
            raise ItembankError(
                "PDF letters need Debian's chromium (apt-get install chromium); it was not found."
            )
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=executable,
                args=FLAGS,
            )
            try:
                self._page = browser.new_page()
                self._page.route("**/*", lambda route: route.abort())  # nothing is fetched
                yield self
            finally:
                self._page = None
                browser.close()

    def print(self, html: bytes) -> bytes:
        """One document's PDF, tagged (a structure tree for screen readers), A4 from its CSS."""
        if self._page is None:
            raise ItembankError("The PDF printer's session is not open.")
        self._page.set_content(html.decode("utf-8"), wait_until="load")
        data: bytes = self._page.pdf(prefer_css_page_size=True, print_background=True, tagged=True)
        return steady_node_ids(fixed_pdf_dates(data, STAMP))


__all__ = ["STAMP", "BatchPrinter"]
