"""A small interpreter of QTI response processing (2.1 and 3.0 names alike) for the package
check: it scores a response through an item's own rules, so the check can compare what the rules
award the key with MAXSCORE, and see whether a response past the interaction's limits (every
option, every pairing) still gets full marks. It follows the common operators and the two
standard templates; anything else raises Unsupported, and the check says it could not follow the
rules rather than guess. NULL follows QTI: an operator given NULL gives NULL, a condition that is
NULL is false."""

from __future__ import annotations

import contextlib
import functools
import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from lxml import etree

E = Any  # lxml elements
Value = Any  # None (NULL), bool, int, float, str, or a list (a multiple or ordered container)


class Unsupported(ValueError):
    """The rules use something this interpreter does not follow."""


@functools.cache  # a package has a few dozen distinct tags, asked for thousands of times
def local(tag: str) -> str:
    """A QTI 2.1 or 3.0 element name as its QTI 2.1 camelCase local name."""
    name = tag.rsplit("}", 1)[-1]
    if name.startswith("qti-"):
        head, *rest = name[4:].split("-")
        name = head + "".join(w.capitalize() for w in rest)
    return name


def attr(element: E, name: str) -> str | None:
    """An attribute by its QTI 2.1 name, whichever way the file writes it (maxChoices or
    max-choices)."""
    value = element.get(name)
    if value is None:
        value = element.get(re.sub(r"([A-Z])", lambda m: "-" + m.group(1).lower(), name))
    return None if value is None else str(value)


def kids(element: E) -> list[E]:
    return [k for k in element if isinstance(k.tag, str)]


def _typed(text: str | None, base_type: str | None) -> Value:
    text = (text or "").strip()
    if base_type == "integer":
        return int(text)
    if base_type == "float":
        return float(text)
    if base_type == "boolean":
        return text == "true"
    if base_type == "pair":  # unordered: "B A" is "A B"
        return " ".join(sorted(text.split()))
    return " ".join(text.split())


TEMPLATES = {"match_correct", "map_response"}


def score(root: E, response: Value, outcome: str = "SCORE") -> float:
    """`outcome` after the item's response processing for `response` (a value, a list of values,
    pairs written "A B"; None: no response)."""
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    decl = next((e for e in elements if local(e.tag) == "responseDeclaration"), None)
    if decl is None:
        raise Unsupported("the item declares no response")
    rid, base_type = attr(decl, "identifier"), attr(decl, "baseType")
    cardinality = attr(decl, "cardinality")

    def values(parent: E | None) -> list[Value]:
        found = [v for v in kids(parent) if local(v.tag) == "value"] if parent is not None else []
        return [_typed(v.text, attr(v, "baseType") or base_type) for v in found]

    def part(tag: str) -> E | None:
        return next((k for k in kids(decl) if local(k.tag) == tag), None)

    correct = values(part("correctResponse"))
    mapping = part("mapping")
    variables: dict[str | None, Value] = {}
    for e in elements:
        if local(e.tag) == "outcomeDeclaration":
            given = values(next((k for k in kids(e) if local(k.tag) == "defaultValue"), None))
            numeric = attr(e, "baseType") in ("float", "integer")
            variables[attr(e, "identifier")] = given[0] if given else (0 if numeric else None)
    if response is not None and cardinality != "single":
        response = [_typed(str(v), base_type) for v in response]
    elif response is not None:
        response = _typed(str(response), base_type)
    variables[rid] = response

    def container(v: Value) -> list[Value] | None:
        return None if v is None else v if isinstance(v, list) else [v]

    def map_response() -> Value:
        if mapping is None:
            raise Unsupported("mapResponse without a mapping")
        table = {
            _typed(attr(m, "mapKey"), base_type): float(attr(m, "mappedValue") or 0)
            for m in kids(mapping)
        }
        default = float(attr(mapping, "defaultValue") or 0)
        total = sum(table.get(v, default) for v in set(container(variables[rid]) or []))
        low, high = attr(mapping, "lowerBound"), attr(mapping, "upperBound")
        total = max(total, float(low)) if low is not None else total
        return min(total, float(high)) if high is not None else total

    def numbers(e: E, combine: Callable[[Sequence[Any]], Value]) -> Value:
        args = [expr(k) for k in kids(e)]
        return None if any(a is None for a in args) else combine(args)

    def match(e: E) -> Value:
        a, b = (expr(k) for k in kids(e))
        if a is None or b is None:
            return None
        return Counter(container(a)) == Counter(container(b))

    def logic(e: E, want_all: bool) -> Value:
        args = [expr(k) for k in kids(e)]
        if (want_all and any(a is False for a in args)) or (not want_all and any(args)):
            return not want_all
        return None if any(a is None for a in args) else want_all

    ops: dict[str, Callable[[E], Value]] = {
        "baseValue": lambda e: _typed(e.text, attr(e, "baseType")),
        "variable": lambda e: variables.get(attr(e, "identifier")),
        "correct": lambda e: correct if cardinality != "single" else (correct or [None])[0],
        "mapResponse": lambda e: map_response(),
        "null": lambda e: None,
        "isNull": lambda e: container(expr(kids(e)[0])) in (None, []),
        "match": match,
        "member": lambda e: numbers(e, lambda a: a[0] in (container(a[1]) or [])),
        "containerSize": lambda e: len(container(expr(kids(e)[0])) or []),
        "multiple": lambda e: [v for k in kids(e) for v in container(expr(k)) or []],
        "and": lambda e: logic(e, True),
        "or": lambda e: logic(e, False),
        "not": lambda e: numbers(e, lambda a: not a[0]),
        "sum": lambda e: numbers(e, sum),
        "product": lambda e: numbers(e, _product),
        "subtract": lambda e: numbers(e, lambda a: a[0] - a[1]),
        "divide": lambda e: numbers(e, lambda a: None if a[1] == 0 else a[0] / a[1]),
        "gt": lambda e: numbers(e, lambda a: a[0] > a[1]),
        "gte": lambda e: numbers(e, lambda a: a[0] >= a[1]),
        "lt": lambda e: numbers(e, lambda a: a[0] < a[1]),
        "lte": lambda e: numbers(e, lambda a: a[0] <= a[1]),
        "equal": lambda e: numbers(e, lambda a: a[0] == a[1]),
    }

    def expr(e: E) -> Value:
        name = local(e.tag)
        if name not in ops:
            raise Unsupported(f"the rules use <{etree.QName(e).localname}>")
        return ops[name](e)

    class Exit(Exception):
        pass

    def run(rules: Sequence[E]) -> None:
        for rule in rules:
            name = local(rule.tag)
            if name == "setOutcomeValue":
                variables[attr(rule, "identifier")] = expr(kids(rule)[0])
            elif name == "responseCondition":
                for branch in kids(rule):
                    if local(branch.tag) == "responseElse":
                        run(kids(branch))
                        break
                    test, *body = kids(branch)
                    if expr(test) is True:
                        run(body)
                        break
            elif name == "exitResponse":
                raise Exit
            else:
                raise Unsupported(f"the rules use <{etree.QName(rule).localname}>")

    processing = next((e for e in elements if local(e.tag) == "responseProcessing"), None)
    if processing is None:
        raise Unsupported("the item has no response processing")
    template = (attr(processing, "template") or "").rstrip("/").rsplit("/", 1)[-1]
    if not kids(processing) and template in TEMPLATES:
        got = ops["match"](_pair_of(rid)) if template == "match_correct" else map_response()
        variables[outcome] = (1.0 if got else 0.0) if template == "match_correct" else got
    elif not kids(processing) and template:
        raise Unsupported(f"the response-processing template {template!r}")
    else:
        with contextlib.suppress(Exit):
            run(kids(processing))
    result = variables.get(outcome)
    return 0.0 if result is None else float(result)


def _pair_of(rid: str | None) -> E:
    """<match><variable RESPONSE/><correct RESPONSE/></match>: the match_correct template."""
    element = etree.Element("match")
    etree.SubElement(element, "variable", identifier=rid or "RESPONSE")
    etree.SubElement(element, "correct", identifier=rid or "RESPONSE")
    return element


def _product(values: Sequence[Any]) -> float:
    out = 1.0
    for v in values:
        out *= v
    return out


__all__ = ["Unsupported", "attr", "kids", "local", "score"]
