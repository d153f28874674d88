"""Printable papers as PDF: the html exporter's documents printed by Debian's chromium in
headless mode (no network, no browser header or footer: each page's footer, the document's id
and "Page n of N", is the paper's own CSS paged media). Chromium stamps the print time in the
PDF's information dictionary; it is replaced with a fixed time (the form's `created`, else the
epoch) of the same length, so the same form gives the same bytes.

The PDFs are tagged for accessibility: headless chromium (156 here) writes a structure
tree from the document's headings, paragraphs, lists and tables (/MarkInfo /Marked true, a
/StructTreeRoot, /Lang from the page's lang), which screen readers and reflow use; the tests
check it on every print, so a chromium that stopped tagging would be noticed."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from itembank.core.errors import ItembankError
from itembank.core.render import fixed_pdf_dates, steady_node_ids
from itembank.forms.exporters import Bundle, FormBundle, Progress
from itembank.forms.exporters.html import documents

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-pdf-header-footer",
    "--run-all-compositor-stages-before-draw",
)


def chromium() -> str:
    """Path of the system chromium (never downloaded)."""
    found = os.environ.get("ITEMBANK_CHROMIUM") or next(
        (c for c in CHROMIUM_CANDIDATES if Path(c).is_file()), shutil.which("chromium")
    )
    if not found:
        raise ItembankError(
            "PDF export needs Debian's chromium (apt-get install chromium); it was not found."
        )
    return found


def print_pdf(html: bytes, stamp: str = "1980-01-01T00:00:00Z", timeout: float = 120) -> bytes:
    """Print one HTML document to PDF bytes with headless chromium."""
    with tempfile.TemporaryDirectory(prefix="itembank-pdf-") as tmp:
        source = Path(tmp) / "paper.html"
        target = Path(tmp) / "paper.pdf"
        source.write_bytes(html)
        profile = Path(tmp) / "profile"
        command = [
            chromium(),
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ]
        said = ""
        for _attempt in range(3):  # a busy machine occasionally loses one run: try again
            try:
                run = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
                said = run.stderr.decode(errors="replace").strip()[-500:]
            except subprocess.TimeoutExpired:
                said = f"no answer within {timeout:.0f} seconds"
                continue
            if target.is_file() and target.stat().st_size > 0:
                break
        if not target.is_file() or target.stat().st_size == 0:
            raise ItembankError(
                "chromium did not produce a PDF; is it installed and working? "
                f"It said: {said or '(nothing)'}"
            )
        data = target.read_bytes()
    return steady_node_ids(fixed_pdf_dates(data, stamp))


def export(
    bundle: Bundle, variant: str = "standard", progress: Progress | None = None
) -> dict[str, bytes]:
    """The html exporter's documents (that variant), each printed: progress("render", ...) as
    they are rendered, then progress("print", done, total) around each print (seconds each)."""
    stamp = bundle.manifest["created"] if isinstance(bundle, FormBundle) else "1980-01-01T00:00:00Z"
    pages = {n: h for n, h in documents(bundle, variant, progress).items() if n.endswith(".html")}
    out = {}
    for done, (name, html) in enumerate(pages.items()):
        if progress:
            progress("print", done, len(pages))
        out[name[: -len(".html")] + ".pdf"] = print_pdf(html, stamp)
    if progress:
        progress("print", len(pages), len(pages))
    return out


__all__ = ["chromium", "export", "print_pdf", "steady_node_ids"]
