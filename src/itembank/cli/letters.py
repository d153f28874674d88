"""The results team's commands: candidate letters, employer thematic reports and the release
(`itembank results letters | employer-report | release`). Letters and reports go to a folder
outside the bank's repository; the release is a commit of aggregates only."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from itembank.bank import Bank
from itembank.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, bank_arg, results_arg


def add_letters(rsub: Any) -> None:
    """The three actions, under `itembank results`."""
    lt = rsub.add_parser(
        "letters",
        help="write every candidate's results letter",
        description="Write one letter per candidate with a decision (met / not met) of FORM's "
        "administration into DIR, outside the bank's repository: accessible HTML, and PDF "
        "with --pdf (one browser session for all). Candidates whose decision is pending get "
        "no letter; they are listed in DIR/pending.txt. The letters must match the release "
        "the results team approved (itembank results release); --unreleased writes drafts "
        "instead, marked DRAFT on every page. A letter already in DIR byte for byte is "
        "skipped, so a cut-short run resumes. Exit 0: written; 1: refused, nothing written "
        "(not released, or the letters differ from the release); 2: bad invocation, no "
        "adopted pass mark, DIR inside the repository, or no bank.",
    )
    lt.add_argument("form", metavar="FORM", help="the form id")
    lt.add_argument("--out", metavar="DIR", required=True, help="the folder to write into")
    lt.add_argument("--pdf", action="store_true", help="also print each letter to PDF")
    lt.add_argument("--unreleased", action="store_true", help="write DRAFT letters")
    lt.add_argument("--progress", action="store_true", help="report progress on stderr")
    results_arg(lt)
    bank_arg(lt)
    er = rsub.add_parser(
        "employer-report",
        help="write an employer's thematic report",
        description="Write the thematic report of EMPLOYER (or of every employer with --all) "
        "for FORM's administration into DIR, outside the bank's repository: its candidates' "
        "results against each standard beside the national figure, strengths and development "
        "themes, change since earlier administrations and a chart; no figure for a group "
        "under the bank's minimum. HTML, and PDF with --pdf. Exit 0: written; 2: bad "
        "invocation, unknown employer, DIR inside the repository, or no bank.",
    )
    er.add_argument("employer", metavar="EMPLOYER", nargs="?", help="the employer's name")
    er.add_argument("--all", action="store_true", help="every employer of the form")
    er.add_argument("--form", metavar="FORM", required=True, help="the form id")
    er.add_argument("--out", metavar="DIR", required=True, help="the folder to write into")
    er.add_argument("--pdf", action="store_true", help="also print each report to PDF")
    results_arg(er)
    bank_arg(er)
    rl = rsub.add_parser(
        "release",
        help="approve the release of a form's letters",
        description="Approve the release of FORM's letters as a member of the results team "
        "(bank.json): one commit by them of releases/<administration>.json with the adopted "
        "pass mark, the counts and one SHA-256 over the letters; no candidate data. Exit 0: "
        "released; 1: refused (already released, or nothing to release); 2: bad invocation, "
        "not a results-team member, no adopted pass mark, or no bank.",
    )
    rl.add_argument("form", metavar="FORM", help="the form id")
    rl.add_argument("--as", dest="person", metavar='"NAME <EMAIL>"', required=True,
                    help="the results-team member approving")  # fmt: skip
    results_arg(rl)
    bank_arg(rl)


def letters(bank: Bank, args: argparse.Namespace) -> int:
    from itembank.results.letters_service import LettersRefusedError

    def progress(stage: str, done: int, total: int) -> None:
        if args.progress:
            print(f"  {stage}: {done}/{total}", file=sys.stderr, flush=True)

    try:
        done = bank.results.letters.write(args.form, args.out, results=args.results,
                                          pdf=args.pdf, unreleased=args.unreleased,
                                          progress=progress)  # fmt: skip
    except LettersRefusedError as exc:
        print(f"itembank: {exc}", file=sys.stderr)
        return EXIT_FINDINGS
    kind = "DRAFT letter(s)" if done.draft else "letter(s)"
    print(
        f"{len(done.written)} {kind} written, {len(done.kept)} already there, for "
        f"{done.administration} in {done.folder}; {len(done.pending)} candidate(s) pending "
        f"(no letter yet; listed in pending.txt). Letters {done.digest}."
    )
    return EXIT_OK


def employer_report(bank: Bank, args: argparse.Namespace) -> int:
    if bool(args.employer) == bool(args.all):
        print("itembank: name one EMPLOYER, or give --all", file=sys.stderr)
        return EXIT_USAGE
    chosen = None if args.all else [args.employer]
    paths = bank.results.letters.write_employer_reports(
        args.form, args.out, chosen, results=args.results, pdf=args.pdf
    )
    for path in paths:
        print(path)
    return EXIT_OK


def release(bank: Bank, args: argparse.Namespace) -> int:
    from itembank.results.letters_service import LettersRefusedError

    try:
        sha = bank.results.letters.release(args.form, args.person, results=args.results)
    except LettersRefusedError as exc:
        print(f"itembank: {exc}", file=sys.stderr)
        return EXIT_FINDINGS
    print(f"Released {args.form}'s letters in commit {sha[:12]}.")
    return EXIT_OK


__all__ = ["add_letters", "employer_report", "letters", "release"]
