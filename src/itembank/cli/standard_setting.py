"""The standard-setting chair's commands: the compromise review of an Angoff pass mark against a
delivered form's scores (Hofstee, Beuk) and the adoption of the pass mark letters use. The
totals come from bank.results (the results folder); the decision is committed to the bank."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from itembank.bank import Bank
from itembank.cli import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    Handler,
    Parser,
    bank_arg,
    output_arg,
    results_arg,
)
from itembank.core.errors import IdentityError, ReviewInputError
from itembank.standard_setting.compromise import Compromise, compromise_text


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("exercise", metavar="EXERCISE", help="the standard-setting exercise id")
    p.add_argument("--form", metavar="F", required=True, help="the delivered form's id")
    results_arg(p)
    bank_arg(p)


def add_standard_setting(sub: Any) -> None:
    p = sub.add_parser(
        "standard-setting",
        help="review the Angoff pass mark after a first administration and adopt one",
        description="The standard-setting chair (the exercise's facilitator) compares the "
        "Angoff pass mark with the Hofstee and Beuk compromises on a delivered form's "
        "scores, then adopts one (a commit recording who decided and why; letters use only "
        "an adopted mark). Each action says its exit codes (--help); with no action: exit 2.",
    )
    ssub = p.add_subparsers(dest="ss_command", metavar="ACTION", parser_class=Parser)
    c = ssub.add_parser(
        "compromise",
        help="Angoff, Hofstee and Beuk pass marks side by side, with their pass rates",
        description="Show the exercise's Angoff pass mark and the Hofstee and Beuk compromise "
        "pass marks (from the judges' acceptable ranges) on FORM's observed totals, each with "
        "the pass rate it gives. Exit 0: shown (a method without a figure says why); 1: no "
        "judge has entered ranges, so there is no compromise to show; 2: bad invocation, "
        "unknown exercise or form, no imported results, or no bank.",
    )
    _common(c)
    c.add_argument(
        "--as",
        dest="person",
        metavar="NAME <EMAIL>",
        help="the chair (default: JUPYTERHUB_USER, else git config)",
    )
    output_arg(c)
    a = ssub.add_parser(
        "adopt",
        help="adopt the pass mark of a delivered form (one commit by the chair)",
        description="Adopt FORM's pass mark: the figure of --method angoff|hofstee|beuk, or with "
        "--method chair a whole mark of your own within the judges' acceptable range, with "
        "--reason. Only the exercise's facilitator (its chair) may, after closing it. One "
        "commit in the chair's name; adopting again replaces the decision and git keeps the "
        "earlier one. Exit 0: adopted; 1: refused (not the method's figure, outside the "
        "range, no reason, not the chair, exercise still open), nothing committed; 2: bad "
        "invocation, unknown exercise or form, no imported results, or no bank.",
    )
    _common(a)
    a.add_argument("--pass-mark", required=True, type=float, metavar="X", help="raw marks")
    a.add_argument("--method", required=True, choices=("angoff", "hofstee", "beuk", "chair"))
    a.add_argument("--reason", required=True, metavar="TEXT", help="why, in a sentence or more")
    a.add_argument("--as", dest="person", required=True, metavar="NAME <EMAIL>", help="the chair")
    a.add_argument("--administration", metavar="ID", help="the administration it was set on")
    p.set_defaults(bank=None, ss_command=None)


def _scores(bank: Bank, args: argparse.Namespace) -> list[float]:
    return [float(x) for x in bank.results.matrix(args.form, args.results).totals]


def compromise_dict(result: Compromise) -> dict[str, Any]:
    return {
        "candidates": result.curve.n,
        "max_score": result.curve.max_score,
        "judges": result.judges,
        "acceptable": list(result.acceptable) if result.acceptable else None,
        "figures": [
            {
                "method": f.method,
                "pass_mark": f.pass_mark,
                "pass_rate": f.pass_rate,
                "fallback": f.fallback,
                "note": f.note,
                "inputs": f.inputs,
            }
            for f in result.figures
        ],
        "fail_rates": list(result.curve.fail),
    }


def _compromise(bank: Bank, args: argparse.Namespace) -> int:
    chair = bank.identity(args.person)
    result = bank.standard_setting.compromise(args.exercise, args.form, _scores(bank, args), chair)
    if args.output == "json":
        print(json.dumps(compromise_dict(result), indent=2))
    else:
        print(f"{args.exercise} on {args.form}")
        print(compromise_text(result))
    return EXIT_OK if result.judges else EXIT_FINDINGS


def _adopt(bank: Bank, args: argparse.Namespace) -> int:
    try:
        adopted = bank.standard_setting.adopt(
            args.exercise,
            args.form,
            args.pass_mark,
            args.method,
            args.reason,
            args.person,
            scores=_scores(bank, args),
            administration=args.administration,
        )
    except (ReviewInputError, IdentityError) as exc:
        print(f"itembank: refused: {exc}\nNothing was committed.")
        return EXIT_FINDINGS
    print(
        f"Adopted {adopted.pass_mark:g} of {adopted.max_score:g} for {adopted.form} "
        f"({adopted.method}) by {adopted.decided_by}: {adopted.record} in {adopted.commit[:10]}."
    )
    return EXIT_OK


def _dispatch(bank: Bank, args: argparse.Namespace) -> int:
    if args.ss_command is None:
        print(
            "itembank standard-setting: say what to do: compromise or adopt (see --help)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    handler = {"compromise": _compromise, "adopt": _adopt}[args.ss_command]
    return handler(bank, args)


COMMANDS: dict[str, Handler] = {"standard-setting": _dispatch}
