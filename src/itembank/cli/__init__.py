"""The command line, `itembank COMMAND`: parsing, dispatch and exit codes live here; the
commands live in one module per role of the README's tour (maintainers, writers, forms,
serving), so that a new command lands beside the people who run it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from itembank import __version__
from itembank.bank import Bank, open_bank
from itembank.core.errors import ItembankError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2

Handler = Callable[[Bank, argparse.Namespace], int]
"""A command: the opened bank and the parsed arguments in, the exit code out."""


class Parser(argparse.ArgumentParser):
    """argparse's parser, but a bad invocation exits EXIT_USAGE on every (sub)command."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def bank_arg(parser: argparse.ArgumentParser) -> None:
    """--bank, worded the same on every command that opens a bank."""
    parser.add_argument(
        "--bank", metavar="PATH", help="the bank folder (default: $ITEMBANK_PATH, else ./item_bank)"
    )


def output_arg(parser: argparse.ArgumentParser) -> None:
    """--output text|json: the results commands' --format (a person or a script reads it)."""
    parser.add_argument(
        "--output", choices=("text", "json"), default="text", help="output format (default: text)"
    )


def results_arg(parser: argparse.ArgumentParser) -> None:
    """--results, worded the same on every command that reads or writes the results store."""
    parser.add_argument(
        "--results",
        metavar="DIR",
        help="the results folder (default: $ITEMBANK_RESULTS, else <repository>-results beside "
        "the bank's repository); never inside the bank's repository",
    )


def format_arg(parser: argparse.ArgumentParser) -> None:
    """--format text|json, so that every report can be read by a person or a script."""
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )


def build_parser() -> argparse.ArgumentParser:
    # imported here: the command modules import this module's helpers
    from itembank.cli import forms, maintainers, results, serving, standard_setting, sync, writers

    parser = Parser(
        prog="itembank",
        description=(
            "Check and report on an item bank: schema and rule validation, coverage of the "
            "standards, currency of the law and guidance cited, and each record's history."
        ),
    )
    parser.add_argument("--version", action="version", version=f"itembank {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    # the order of `itembank --help`, kept as users know it (kept came after the forms)
    maintainers.add_checks(sub)
    writers.add_import(sub)
    forms.add_form_commands(sub)
    maintainers.add_kept(sub)
    maintainers.add_remap(sub)
    serving.add_serve(sub)
    results.add_results(sub)
    standard_setting.add_standard_setting(sub)
    sync.add_sync(sub)
    return parser


def commands() -> dict[str, Handler]:
    """Every command's handler by its name."""
    from itembank.cli import forms, maintainers, results, serving, standard_setting, sync, writers

    return {**maintainers.COMMANDS, **writers.COMMANDS, **forms.COMMANDS, **serving.COMMANDS,
            **results.COMMANDS, **standard_setting.COMMANDS, **sync.COMMANDS}  # fmt: skip


def run(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        bank = open_bank(args.bank)
        code = commands()[args.command](bank, args)
        if bank.sync.note:  # a save was made here but could not be shared (e.g. offline)
            print(f"itembank: note: {bank.sync.note}", file=sys.stderr)
        return code
    except ItembankError as exc:
        print(f"itembank: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        print(
            f"itembank: error: {exc.strerror or exc}{where}; nothing was changed by this "
            "command's failed step.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("itembank: interrupted; nothing was changed.", file=sys.stderr)
        return 130


def main() -> None:
    sys.exit(run())
