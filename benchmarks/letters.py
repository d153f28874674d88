"""Letters benchmark: composing and rendering candidate letters, and printing them to PDF with
a new chromium per letter (the papers' printer) against ONE browser session (results/batch_pdf).

Synthetic letters (made-up decisions, two development points with learning each), so nothing
but the rendering and printing is measured.

    .venv/bin/python benchmarks/letters.py [--letters 2000] [--single 10] [--batch 200]

Prints a Markdown table of the figures (for benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import time

from itembank.forms.exporters.pdf import print_pdf
from itembank.results.batch_pdf import BatchPrinter
from itembank.results.feedback import compose
from itembank.results.letters import letter_html
from itembank.results.outcomes import AdoptedPassMark, Decision, LearningText, Point, Subscore

MARK = AdoptedPassMark("form-1", 18, 30, "angoff", "A Chair <chair@example.org>", "as rated",
                       "exercise-1", "standard_setting/exercise-1/adoption.json", "a" * 40)  # fmt: skip
SUBSCORES = tuple(
    Subscore(f"S-{k}", f"Standard {k}", (f"PR-0{k}",), 6, 6, 0.7, 0.6, True, "adds value")
    for k in range(1, 6)
)
LEARNING = tuple(
    LearningText(f"LP-000{k}", f"Learning {k}", "Read, discuss with your supervisor, practise. " * 3,
                 (f"PR-0{k}",))
    for k in range(1, 6)
)  # fmt: skip


def letters(n: int) -> list[bytes]:
    out = []
    for k in range(n):
        score = 10 + k % 21
        d = Decision(f"CAND-{k:05d}", "form-1", "form-1-2026-11-30", score, 30, MARK,
                     score >= 18, (), score >= 18, "The knowledge score is at or above the pass mark.")  # fmt: skip
        points = tuple(
            Point(f"S-{j}", f"Standard {j}", "Below your own level (likely).") for j in (1, 2)
        )
        fb = compose(d, (), points, (), LEARNING, SUBSCORES)
        out.append(letter_html(fb, bank_title="A bank", form_title="A form"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=2000)
    parser.add_argument("--single", type=int, default=10, help="letters printed one chromium each")
    parser.add_argument("--batch", type=int, default=200, help="letters printed in one session")
    args = parser.parse_args()
    start = time.perf_counter()
    pages = letters(args.letters)
    render = time.perf_counter() - start
    start = time.perf_counter()
    for page in pages[: args.single]:
        print_pdf(page)
    single = (time.perf_counter() - start) / args.single
    start = time.perf_counter()
    with BatchPrinter().session() as printer:
        opened = time.perf_counter() - start
        start = time.perf_counter()
        for page in pages[: args.batch]:
            printer.print(page)
        batch = (time.perf_counter() - start) / args.batch
    print("| measure | figure |\n|---|---:|")
    print(f"| compose and render {args.letters} letters (HTML) | {render:.2f} s |")
    print(f"| PDF, a new chromium per letter (n={args.single}) | {single:.2f} s a letter |")
    print(f"| PDF, one session: start | {opened:.2f} s |")
    print(f"| PDF, one session (n={args.batch}) | {batch:.3f} s a letter |")
    print(f"| {args.letters} PDFs: one chromium each / one session | "
          f"{single * args.letters / 60:.0f} min / {(opened + batch * args.letters) / 60:.1f} min |")  # fmt: skip


if __name__ == "__main__":
    main()
