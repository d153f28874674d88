"""A small, strict interpreter of QTI 2.1 / 3.0 response processing, written from the QTI 2.1
Assessment Test, Section and Item Information Model (expressions, response rules, NULL
handling, multiple-cardinality containers as bags) for the tests, independently of the
exporter that emits the rules.

No Python QTI engine installs from the package registry (the ones there are converters and
authoring kits: citolab-qti-convert, text2qti, qti-package-maker; the real engines, TAO's
runner and the QTI 3 players, are JavaScript browser components), so the exported rules are
run here. Anything outside the supported subset raises, so an emitter that starts using a new
operator fails the tests loudly instead of being scored wrongly.

Values: None is NULL; a multiple container is a Counter (a bag: unordered, duplicates kept);
an empty container is NULL, as the information model says.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from lxml import etree

Value = Any


def local(element: Any) -> str:
    """QTI 2.1 or 3.0 element name -> QTI 2.1 camelCase local name."""
    name = str(etree.QName(element).localname)
    if name.startswith("qti-"):
        head, *rest = name[4:].split("-")
        name = head + "".join(w.capitalize() for w in rest)
    return name


def attr(element: Any, name: str) -> str | None:
    """An attribute by its 2.1 name (camelCase) or 3.0 name (kebab-case)."""
    kebab = re.sub(r"([A-Z])", lambda m: "-" + m.group(1).lower(), name)
    value = element.get(name)
    if value is None:
        value = element.get(kebab)
    return None if value is None else str(value)


class Unsupported(ValueError):
    """The rules use something outside the subset this interpreter implements."""


def parse_value(text: str | None, base_type: str | None) -> Value:
    """One single value of `base_type` from its XML text."""
    raw = (text or "").strip()
    if base_type == "integer":
        return int(raw)
    if base_type == "float":
        return float(raw)
    if base_type == "boolean":
        if raw not in ("true", "false"):
            raise ValueError(f"not a boolean: {raw!r}")
        return raw == "true"
    if base_type == "identifier":
        if not raw or " " in raw:
            raise ValueError(f"not an identifier: {raw!r}")
        return raw
    if base_type == "directedPair":
        parts = raw.split()
        if len(parts) != 2:
            raise ValueError(f"not a directed pair: {raw!r}")
        return (parts[0], parts[1])
    if base_type == "string":
        return text or ""
    raise Unsupported(f"base type {base_type!r}")


def _container(values: Iterable[Value]) -> Counter[Value] | None:
    bag = Counter(values)
    return bag or None  # an empty container is NULL


class Item:
    """One assessment item's declarations and response processing."""

    def __init__(self, xml: bytes) -> None:
        self.root = etree.fromstring(xml)
        self.responses: dict[str, dict[str, Any]] = {}
        self.outcomes: dict[str, dict[str, Any]] = {}
        for element in self.root:
            if not isinstance(element.tag, str):
                continue
            kind = local(element)
            if kind not in ("responseDeclaration", "outcomeDeclaration"):
                continue
            base = attr(element, "baseType")
            decl: dict[str, Any] = {"cardinality": attr(element, "cardinality"), "baseType": base}
            for child in element:
                name = local(child)
                if name in ("correctResponse", "defaultValue"):
                    decl[name] = [parse_value(v.text, base) for v in child if local(v) == "value"]
                elif name == "mapping":
                    decl["mapping"] = {
                        parse_value(attr(e, "mapKey"), base): float(str(attr(e, "mappedValue")))
                        for e in child
                        if local(e) == "mapEntry"
                    }
                    decl["mappingDefault"] = float(attr(child, "defaultValue") or 0)
                    decl["mappingBounds"] = (attr(child, "lowerBound"), attr(child, "upperBound"))
            table = self.responses if kind == "responseDeclaration" else self.outcomes
            table[str(attr(element, "identifier"))] = decl
        processing = [e for e in self.root if isinstance(e.tag, str) and local(e) == "responseProcessing"]
        if len(processing) != 1:
            raise Unsupported("exactly one responseProcessing expected")
        if attr(processing[0], "template") is not None:
            raise Unsupported("response processing templates")
        self.processing = processing[0]

    def _value(self, decl: dict[str, Any], values: Sequence[Value] | None) -> Value:
        if not values:
            return None
        if decl["cardinality"] == "single":
            return values[0]
        return _container(values)

    def score(self, response: Value, identifier: str = "RESPONSE") -> dict[str, Value]:
        """Every outcome after response processing. `response`: None, one value (single
        cardinality) or a list of values; strings are parsed by the declared base type."""
        decl = self.responses[identifier]
        if response is None:
            values: list[Value] = []
        elif isinstance(response, str):
            values = [response]
        else:
            values = list(response)
        parsed = [parse_value(v, decl["baseType"]) if isinstance(v, str) else v for v in values]
        if decl["cardinality"] == "single" and len(parsed) > 1:
            raise ValueError("a single-cardinality response holds one value")
        variables: dict[str, Value] = {identifier: self._value(decl, parsed)}
        for name, out in self.outcomes.items():
            default = self._value(out, out.get("defaultValue"))
            if default is None and out["baseType"] in ("integer", "float") and out["cardinality"] == "single":
                default = 0 if out["baseType"] == "integer" else 0.0  # numeric outcomes start at 0
            variables[name] = default
        self._run(list(self.processing), variables)
        return variables

    # ---- response rules ------------------------------------------------------------------

    def _run(self, rules: Iterable[Any], variables: dict[str, Value]) -> None:
        for rule in rules:
            if not isinstance(rule.tag, str):
                continue
            name = local(rule)
            if name == "setOutcomeValue":
                target = str(attr(rule, "identifier"))
                if target not in self.outcomes:
                    raise ValueError(f"setOutcomeValue of undeclared {target}")
                value = self._expr(self._only(rule), variables)
                if self.outcomes[target]["baseType"] == "float" and isinstance(value, int):
                    value = float(value)
                variables[target] = value
            elif name == "responseCondition":
                for branch in (b for b in rule if isinstance(b.tag, str)):
                    kind = local(branch)
                    if kind == "responseElse":
                        self._run(list(branch), variables)
                        break
                    if kind not in ("responseIf", "responseElseIf"):
                        raise Unsupported(kind)
                    condition, *body = [c for c in branch if isinstance(c.tag, str)]
                    if self._expr(condition, variables) is True:  # NULL counts as false
                        self._run(body, variables)
                        break
            else:
                raise Unsupported(f"<{name}> as a response rule")

    @staticmethod
    def _only(element: Any) -> Any:
        kids = [k for k in element if isinstance(k.tag, str)]
        if len(kids) != 1:
            raise ValueError(f"<{local(element)}> takes one expression")
        return kids[0]

    # ---- expressions ---------------------------------------------------------------------

    def _expr(self, e: Any, variables: dict[str, Value]) -> Value:
        name = local(e)
        kids = [k for k in e if isinstance(k.tag, str)]
        args = lambda: [self._expr(k, variables) for k in kids]  # noqa: E731
        if name == "baseValue":
            return parse_value(e.text, attr(e, "baseType"))
        if name == "variable":
            ident = str(attr(e, "identifier"))
            if ident not in variables:
                raise ValueError(f"undeclared variable {ident}")
            return variables[ident]
        if name == "correct":
            decl = self.responses[str(attr(e, "identifier"))]
            return self._value(decl, decl.get("correctResponse"))
        if name == "mapResponse":
            ident = str(attr(e, "identifier"))
            decl = self.responses[ident]
            value = variables[ident]
            if value is None:
                return 0.0
            distinct = [value] if decl["cardinality"] == "single" else list(value)  # each value once
            total = float(sum(decl["mapping"].get(v, decl["mappingDefault"]) for v in distinct))
            low, high = decl["mappingBounds"]
            total = total if low is None else max(total, float(low))
            return total if high is None else min(total, float(high))
        if name == "isNull":
            return self._expr(self._only(e), variables) is None
        if name == "containerSize":
            value = self._expr(self._only(e), variables)
            return 0 if value is None else sum(value.values())
        values = args()
        if name == "not":
            (v,) = values
            return None if v is None else not v
        if name in ("and", "or"):
            if not values:
                raise ValueError(f"<{name}> needs at least one expression")
            decisive = name == "or"  # the value that settles it: True for or, False for and
            if any(v is decisive for v in values):
                return decisive
            return None if any(v is None for v in values) else not decisive
        if any(v is None for v in values):
            return None  # every operator below is NULL when an operand is NULL
        if name == "match":
            a, b = values
            return a == b
        if name == "member":
            a, b = values
            if not isinstance(b, Counter):
                raise ValueError("member's second operand must be a container")
            return a in b
        if name in ("sum", "product"):
            out: Value = 0 if name == "sum" else 1
            for v in values:
                out = out + v if name == "sum" else out * v
            return out
        if name == "divide":
            a, b = values
            return None if b == 0 else float(a) / float(b)
        if name in ("gt", "gte", "lt", "lte"):
            a, b = values
            return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[name]
        raise Unsupported(f"<{name}>")


def outcome(xml: bytes, response: Value, name: str = "SCORE") -> Value:
    """One outcome (SCORE by default) after running the item's rules on `response`."""
    return Item(xml).score(response)[name]
