"""What package_check finds in a QTI package, as values: the items, stimuli, tests and sections
a platform will receive, the findings, and the plain-words descriptions both the command line
and a notebook print. Also the small XML helpers the check uses (where, resolve, describe)."""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from itertools import product
from typing import Any
from urllib.parse import unquote, urlsplit

from lxml import etree

from itembank.core.findings import Finding, Report
from itembank.forms.exporters import Bundle, ScenarioBundle
from itembank.forms.exporters.package_rules import attr as _attr
from itembank.forms.exporters.package_rules import local as _local

E = Any  # lxml elements (lxml ships no type information)
QTI21 = "http://www.imsglobal.org/xsd/imsqti_v2p1"
QTI30 = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"


@dataclass(frozen=True)
class PackageItem:
    identifier: str
    title: str
    path: str
    interaction: str  # the interaction's QTI 2.1 name, e.g. choiceInteraction
    format: str  # in plain words: "single choice, 4 options", "true/false grid, 5 statements"
    max_score: float | None
    bank_id: str | None
    stimuli: tuple[str, ...] = ()


@dataclass(frozen=True)
class PackageStimulus:
    identifier: str
    title: str
    path: str


@dataclass(frozen=True)
class PackageSection:
    identifier: str
    title: str
    items: tuple[str, ...]  # the identifiers of the items its refs resolve to ("?" if none)
    rubric: bool  # shows a rubric block (a 2.1 package may carry a case there)


@dataclass(frozen=True)
class PackageTest:
    identifier: str
    title: str
    path: str
    sections: tuple[PackageSection, ...]


def _plain(obj: Any) -> Any:
    if isinstance(obj, tuple | list):
        return [_plain(o) for o in obj]
    if is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _plain(getattr(obj, f.name)) for f in fields(obj)}
    return obj


@dataclass
class PackageReport(Report):
    """Everything check_package found in one package (a validation Report of its files, with
    what a platform will receive); ok when no finding is an error."""

    version: str = "unknown"
    items: list[PackageItem] = field(default_factory=list)
    stimuli: list[PackageStimulus] = field(default_factory=list)
    tests: list[PackageTest] = field(default_factory=list)

    @property
    def files(self) -> int:
        return self.files_checked

    @property
    def max_score(self) -> float:
        return sum(i.max_score or 0.0 for i in self.items)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "files": self.files,
            "items": _plain(self.items),
            "stimuli": _plain(self.stimuli),
            "tests": _plain(self.tests),
            "max_score": self.max_score,
            "errors": [f.to_dict() for f in self.errors],
            "warnings": [f.to_dict() for f in self.warnings],
        }

    def lines(self, name: str) -> list[str]:
        """What a platform will receive, then every error and warning, for a person."""
        stimuli = f", {len(self.stimuli)} stimulus file(s)" if self.stimuli else ""
        out = [
            f"{name} ({self.version}, {self.files} files): {len(self.items)} items{stimuli}, "
            f"max score {self.max_score:g}"
        ]
        out.append("  Items (identifier | title | format | max score | bank id):")
        for i in self.items:
            top = "?" if i.max_score is None else f"{i.max_score:g}"
            case = f" | stimulus {', '.join(i.stimuli)}" if i.stimuli else ""
            out.append(
                f"    {i.identifier} | {i.title} | {i.format} | {top} | {i.bank_id or '-'}{case}"
            )
        if self.stimuli:
            out.append("  Stimuli (identifier | title | file | used by):")
            for s in self.stimuli:
                users = sum(s.identifier in i.stimuli for i in self.items)
                out.append(f"    {s.identifier} | {s.title} | {s.path} | {users} item(s)")
        for t in self.tests:
            out.append(f"  Test {t.identifier} ({t.title}), {t.path}:")
            for sec in t.sections:
                rubric = ", with a rubric block" if sec.rubric else ""
                out.append(
                    f"    section {sec.identifier} ({sec.title}): {len(sec.items)} items{rubric}"
                )
        groups: dict[tuple[str, str], list[Finding]] = {}
        for f in [*self.errors, *self.warnings]:
            groups.setdefault((f.severity, f.code), []).append(f)
        for (severity, code), found in groups.items():
            if len(found) <= 3:  # each in full; a longer run once, with every file it concerns
                out += [f"  {severity}: {f.path} {f.pointer}: {code}: {f.message}" for f in found]
                continue
            out.append(f"  {severity}: {code} in {len(found)} places, e.g. {found[0].message}")
            out.append(f"    at: {', '.join(f'{f.path} {f.pointer}' for f in found)}")
        out.append(
            f"  {len(self.errors)} error(s), {len(self.warnings)} warning(s)"
            + ("" if self.ok else ": a platform would refuse or mis-deliver this package")
        )
        return out


FORMAT_WORDS = {
    "single_best_answer": "single best answer",
    "multiple_response": "multiple response",
    "true_false": "true/false",
    "multiple_true_false": "true/false grid",
}


#: a paper variant's name ending -> what it is (the reasonable adjustments)
VARIANT_WORDS = {
    "large-print": "large print: a reasonable adjustment",
    "accessible": "for a screen reader: a reasonable adjustment",
}


def paper_lines(bundle: Bundle, names: Sequence[str]) -> list[str]:
    """What each paper document will contain (its pages are known only once printed)."""
    if isinstance(bundle, ScenarioBundle):
        s = bundle.scenario
        actors = sum(len(x.get("actor_briefs", [])) for x in s["exercises"])
        criteria = len(s["marking_scheme"]["criteria"])
        says = {
            "candidate-brief": f"the candidate brief: background and {len(s['exercises'])} "
            "exercise(s), with preparation and exercise times",
            "actor-briefs": f"the actor briefs ({actors}), for actors only",
            "marking-sheet": f"the assessor's marking sheet: {criteria} criteria with bands",
        }
    else:
        m = bundle.manifest
        entries = [e for s in m["sections"] for e in s["items"]]
        kinds = Counter(FORMAT_WORDS.get(bundle.items[e["id"]]["format"], "other") for e in entries)
        sections = "; ".join(f"{s['title']} ({len(s['items'])})" for s in m["sections"])
        cases = [bundle.stimuli[s["stimulus"]]["title"] for s in m["sections"] if s.get("stimulus")]
        says = {
            "candidate-paper": f"the candidate paper: {len(entries)} questions, "
            f"{m['totals']['max_score']:g} marks, {m['totals'].get('time_minutes', '?')} minutes; "
            f"sections: {sections}; case(s): {'; '.join(cases) or 'none'}; formats: "
            + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())),
            "answer-key": f"the answer key and marking scheme for {len(entries)} questions "
            "(confidential: for markers only)",
        }
    out = []
    for name in names:
        stem = name.rsplit(".", 1)[0]
        what = next((text for kind, text in says.items() if kind in stem), "a document")
        variant = next((v for v in VARIANT_WORDS if stem.endswith(v)), None)
        out.append(f"{name}: {what}" + (f" ({VARIANT_WORDS[variant]})" if variant else ""))
    return out


@dataclass
class ExportCheck:
    """What an export would write, without writing it: per QTI package its report, and for
    papers what each document will contain."""

    form: str
    format: str
    files: list[str]
    packages: dict[str, PackageReport] = field(default_factory=dict)
    papers: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.packages.values())

    def lines(self) -> list[str]:
        out = [f"{self.form} as {self.format} would write {len(self.files)} file(s) (nothing "
               "written: this is a check):"]  # fmt: skip
        for name, report in sorted(self.packages.items()):
            out += report.lines(name)
        out += [f"  {line}" for line in self.papers]
        if self.papers:
            out.append("  Page counts are known only once the papers are printed.")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "form": self.form,
            "format": self.format,
            "files": self.files,
            "ok": self.ok,
            "packages": {n: r.to_dict() for n, r in sorted(self.packages.items())},
            "papers": self.papers,
        }


def where(element: E, attribute: str | None = None) -> str:
    """An XPath to `element` by local names (with a position among same-named siblings where
    there are several), e.g. /manifest/resources/resource[3]/file/@href."""
    steps = []
    node = element
    while node is not None:
        name = etree.QName(node).localname
        parent = node.getparent()
        same = [s for s in parent if s.tag == node.tag] if parent is not None else [node]
        steps.append(f"{name}[{same.index(node) + 1}]" if len(same) > 1 else name)
        node = parent
    path = "/" + "/".join(reversed(steps))
    return f"{path}/@{attribute}" if attribute else path


def resolve(base_file: str, href: str) -> str | None:
    """A package-relative path for `href` written in `base_file`; None for an absolute URL or a
    path that leaves the package."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or href.startswith("/") or not parts.path:
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(base_file), unquote(parts.path)))
    return None if joined.startswith("..") or joined == "." else joined


def attr_name(element: E, name: str) -> str:
    """The attribute's name as written (QTI 3.0 writes maxChoices as max-choices)."""
    if element.get(name) is not None:
        return name
    return re.sub(r"([A-Z])", lambda m: "-" + m.group(1).lower(), name)


def children(element: E, tag: str) -> list[E]:
    """Descendants (any depth) with the QTI 2.1 local name `tag`, in either version."""
    return [c for c in element.iter() if isinstance(c.tag, str) and _local(c.tag) == tag]


def _texts(element: E, tag: str) -> list[str]:
    return [" ".join("".join(c.itertext()).split()) for c in children(element, tag)]


def _match_sets(interaction: E) -> list[E]:
    return [s for s in interaction if isinstance(s.tag, str) and _local(s.tag) == "simpleMatchSet"]


def describe(interaction: E | None) -> str:
    """The interaction in plain words, as a platform will present it."""
    if interaction is None:
        return "no interaction"
    name = _local(interaction.tag)
    if name == "choiceInteraction":
        texts = _texts(interaction, "simpleChoice")
        most = int(_attr(interaction, "maxChoices") or 1)
        if most == 1:
            if sorted(t.lower() for t in texts) == ["false", "true"]:
                return "true/false"
            return f"single choice, {len(texts)} options"
        if most == 0:
            return f"multiple response, any of {len(texts)}"
        return f"multiple response, up to {most} of {len(texts)}"
    if name == "matchInteraction":
        sets = [_texts(s, "simpleAssociableChoice") for s in _match_sets(interaction)]
        if len(sets) == 2 and sorted(t.lower() for t in sets[1]) == ["false", "true"]:
            hint = "qti-match-tabular" in str(interaction.get("class", ""))
            plain = hint or etree.QName(interaction).namespace != QTI30
            return f"true/false grid, {len(sets[0])} statements" + (
                "" if plain else " (no qti-match-tabular: may show as drag and drop)"
            )
        return f"match, {' x '.join(str(len(s)) for s in sets)}"
    return name


#: what hostile() sends, in words, per interaction
HOSTILE_WORDS = {
    "choiceInteraction": "chooses every option",
    "matchInteraction": "pairs every statement with every answer",
}


def hostile(interaction: E | None) -> list[str] | None:
    """A response past the interaction's limits: every choice; every statement paired with
    every answer (None for other interactions)."""
    if interaction is None:
        return None
    name = _local(interaction.tag)
    if name == "choiceInteraction":
        return [str(_attr(c, "identifier")) for c in children(interaction, "simpleChoice")]
    if name == "matchInteraction":
        sets = [
            [str(_attr(c, "identifier")) for c in children(s, "simpleAssociableChoice")]
            for s in _match_sets(interaction)
        ]
        if len(sets) == 2:
            return [f"{a} {b}" for a, b in product(*sets)]
    return None


#: the catalogue the exporters file bank ids under (LOM catalog/entry); others are taken too
CATALOG = "itembank"


def bank_id(root: E, resource: E | None) -> str | None:
    """The bank id as metadata carries it: a LOM identifier (IEEE LOM general/identifier, or
    IMS MD 1.2 general/catalogentry) in the manifest resource's metadata, the itembank
    catalogue's first; else the item's label attribute."""
    found: list[tuple[bool, str]] = []
    for meta in resource.iter("{*}metadata") if resource is not None else ():
        for entry in meta.iter("{*}entry"):
            holder = entry.getparent()
            if etree.QName(holder).localname not in ("identifier", "catalogentry"):
                continue
            catalog = "".join(c.findtext(".") or "" for c in holder.iter("{*}catalog")).strip()
            text = " ".join("".join(entry.itertext()).split())
            if text:
                found.append((catalog != CATALOG, text))
    if found:
        return min(found, key=lambda f: f[0])[1]
    return str(root.get("label")) if root.get("label") else None


__all__ = [
    "ExportCheck",
    "PackageItem",
    "PackageReport",
    "PackageSection",
    "PackageStimulus",
    "PackageTest",
    "bank_id",
    "describe",
    "hostile",
    "paper_lines",
    "resolve",
    "where",
]
