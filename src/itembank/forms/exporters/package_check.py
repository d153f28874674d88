"""What a delivery platform will receive from a QTI content package, and what would trip it up.

check_package(files) reads a package ({relative path: bytes}, as unzipped) the way a platform
does: from imsmanifest.xml (resources, their files and dependencies), then every test, item and
stimulus those resources name, whatever the files are called. It lists the items, stimuli,
tests and sections (package_report.PackageReport) and finds what an XML schema cannot:
identifiers that are not unique, files and references that do not resolve, keys that name no
choice, max scores the rules do not award, rules that leave a limit to the player. QTI 2.1 and
3.0 alike. Pure: bytes in, a report out; each finding names the file, an XPath and the fix."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from itembank.core.errors import ItembankError
from itembank.core.findings import Finding, Severity
from itembank.forms.exporters import Progress
from itembank.forms.exporters.package_report import (
    HOSTILE_WORDS,
    QTI21,
    QTI30,
    PackageItem,
    PackageReport,
    PackageSection,
    PackageStimulus,
    PackageTest,
    attr_name,
    bank_id,
    children,
    describe,
    hostile,
    resolve,
    where,
)
from itembank.forms.exporters.package_rules import Unsupported
from itembank.forms.exporters.package_rules import attr as _attr
from itembank.forms.exporters.package_rules import local as _local
from itembank.forms.exporters.package_rules import score as rules_score
from itembank.forms.manifests import NotDeliverableError

E = Any  # lxml elements
#: progress(stage, done, total): the one signature every export reports its progress through.

MANIFEST = "imsmanifest.xml"
IGNORED = frozenset({MANIFEST, ".itembank-export"})  # not resources (the marker: write_tree's)
CHOICES = frozenset({"simpleChoice", "simpleAssociableChoice", "inlineChoice", "hottext",
                     "hotspotChoice", "associableHotspot", "gapText", "gapImg", "gap"})  # fmt: skip
VERSIONS = {"2.1": QTI21, "3.0": QTI30}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_FAULTS = (Unsupported, ValueError, TypeError, KeyError, IndexError, ZeroDivisionError)

#: code -> (severity, message): every finding the check makes, worded once, with the fix.
MESSAGES: dict[str, tuple[Severity, str]] = {
    "no-manifest": ("error", "The package has no imsmanifest.xml at its top level: a platform "
                    "cannot tell what it holds. Re-export it."),
    "not-xml": ("error", "This file is not well-formed XML ({why}): a platform refuses the "
                "package. Re-export it."),
    "manifest-schema": ("warning", "The manifest calls itself {schema!r}; platforms look for a "
                        "QTI package here ('QTIv2.1 Package', 'QTI Package')."),
    "mixed-versions": ("error", "The package mixes {versions}: platforms import one QTI version "
                       "per package. Export each version on its own."),
    "duplicate-identifier": ("error", "{ident!r} is also the identifier of {other}: a platform "
                             "keeps one and drops or mis-scores the other. Give each its own."),
    "missing-file": ("error", "{owner} names {href!r}, which is not in the package: add the "
                     "file or correct the reference."),
    "duplicate-file": ("error", "Resources {first} and {second} both deliver {file}: give each "
                       "resource its own file."),
    "dangling-dependency": ("error", "Resource {owner} depends on {ident!r}, which is no "
                            "resource of this manifest: add it or remove the dependency."),
    "missing-dependency": ("warning", "This file uses {what} {file}, but its resource {owner} "
                           "does not depend on {target}: a platform importing it alone leaves "
                           "that out. Add the dependency."),
    "unlisted-file": ("warning", "No manifest resource lists this file: a platform may drop "
                      "it. List it in a resource or leave it out."),
    "case-clash": ("error", "This file's name differs from {other} only in upper/lower case: on "
                   "many systems one overwrites the other. Rename one."),
    "wrong-type": ("error", "Resource {owner} says this file is an {expected}, but it holds "
                   "<{found}>: correct the resource type or the file."),
    "version-mismatch": ("error", "Resource {owner} says QTI {version}, but this file is in the "
                         "namespace {namespace}: correct the resource type or the file."),
    "no-language": ("warning", "The item does not say its language (xml:lang): screen readers "
                    "and platforms then guess. Set xml:lang on the item."),
    "bare-title": ("warning", "The item's title is {title!r}: platforms list items by title, "
                   "so give words a person can recognise (e.g. the id and the stem's start)."),
    "undeclared-response": ("error", "This interaction records {ident!r}, which no response "
                            "declaration declares: declare it or correct responseIdentifier."),
    "key-not-a-choice": ("error", "The {what} names {ident!r}, which is not a choice of this "
                         "item ({choices}): correct the key or the choice identifiers."),
    "dangling-stimulus-ref": ("error", "The item refers to the stimulus {ident!r} at {href!r}, "
                              "which is not in the package, so it would show without its case: "
                              "add the stimulus file or correct the href."),
    "stimulus-ref-mismatch": ("error", "The item refers to the stimulus {ident!r} at {href}, "
                              "but that file holds <{found} identifier={found_id!r}>: correct "
                              "the reference."),
    "rules-not-checked": ("warning", "The response processing could not be followed here "
                          "({why}); check the max score by hand."),
    "no-max-score": ("warning", "The item declares no MAXSCORE, so a platform cannot show its "
                     "marks; its key scores {best:g}. Declare MAXSCORE."),
    "max-score-mismatch": ("error", "MAXSCORE says {declared:g}, but the correct response "
                           "scores {best:g} under the item's rules: make them agree."),
    "score-above-max": ("error", "A response that {how} scores {worst:g}, more than the "
                        "maximum {declared:g}: guard the response processing."),
    "relies-on-player-limit": ("warning", "A response that {how} scores full marks "
                               "({worst:g}) under this item's rules: they rely on the player "
                               "enforcing the interaction's limits, and some players do not. "
                               "Guard the response processing."),
    "dangling-item-ref": ("error", "The test's item {ident!r} points to {href!r}, which {why}: "
                          "add the item as a resource or correct the href."),
    "item-not-in-test": ("warning", "No test in the package uses this item, so no candidate "
                         "will see it: add it to a section or leave it out."),
}  # fmt: skip


@dataclass
class _Resource:
    identifier: str
    type: str
    main: str | None  # the resource's href, else its first file (package-relative)
    files: list[tuple[str | None, str]]  # (package path or None if outside, XPath of the href)
    dependencies: list[str]
    element: E

    @property
    def kind(self) -> str:
        """item, test, stimulus or other, from the type (imsqti_item_xmlv2p1, ...)."""
        match = re.match(r"imsqti_(item|test|stimulus)_xmlv", self.type)
        return match.group(1) if match else "other"

    @property
    def version(self) -> str | None:
        match = re.search(r"xmlv(\d)p(\d)", self.type)
        return f"{match.group(1)}.{match.group(2)}" if match else None


class _Checker:
    def __init__(self, files: Mapping[str, bytes], progress: Progress | None) -> None:
        self.files = {k: v for k, v in files.items() if not k.endswith("/")}
        self.progress = progress
        self.findings: list[Finding] = []
        self.trees: dict[str, E | None] = {}
        self.resources: list[_Resource] = []
        self.by_file: dict[str, _Resource] = {}  # main file -> the resource delivering it
        self.roots: dict[str, str] = {}  # item/test/stimulus identifier -> its file

    def add(self, code: str, path: str, at: str, **facts: Any) -> None:
        severity, text = MESSAGES[code]
        self.findings.append(Finding(path, at, code, severity, text.format(**facts)))

    def tree(self, path: str) -> E | None:
        """The parsed root of a package file (None, with one finding, if it is not XML)."""
        if path not in self.trees:
            try:
                self.trees[path] = etree.fromstring(self.files[path], _PARSER)
            except etree.XMLSyntaxError as exc:
                self.trees[path] = None
                self.add("not-xml", path, "/", why=str(exc))
        return self.trees[path]

    # ---- the manifest: resources, their files and dependencies ------------------------------

    def manifest(self) -> None:
        root = self.tree(MANIFEST)
        if root is None:
            return
        schema = " ".join((e.text or "").strip() for e in root.iter("{*}schema"))
        if "qti" not in schema.lower():
            self.add("manifest-schema", MANIFEST, "/manifest/metadata/schema", schema=schema)
        seen = {str(root.get("identifier")): where(root)} if root.get("identifier") else {}
        base_attr = "{http://www.w3.org/XML/1998/namespace}base"
        for element in root.iter("{*}resource"):
            base = "".join(a.get(base_attr, "") for a in (element.getparent(), element))
            hrefs = [(element.get("href"), where(element, "href"))] if element.get("href") else []
            hrefs += [(f.get("href", ""), where(f, "href")) for f in element.iter("{*}file")]
            res = _Resource(
                str(element.get("identifier", "")),
                str(element.get("type", "")),
                resolve(MANIFEST, base + hrefs[0][0]) if hrefs else None,
                [(resolve(MANIFEST, base + href), at) for href, at in hrefs],
                [str(d.get("identifierref", "")) for d in element.iter("{*}dependency")],
                element,
            )
            if res.identifier in seen:
                at = where(element, "identifier")
                self.add("duplicate-identifier", MANIFEST, at, ident=res.identifier,
                         other=f"the resource at {seen[res.identifier]}")  # fmt: skip
            seen.setdefault(res.identifier, where(element))
            self.resources.append(res)
            for (path, at), (href, _) in zip(res.files, hrefs, strict=True):
                if path is None or path not in self.files:
                    self.add("missing-file", MANIFEST, at, owner=f"Resource {res.identifier}",
                             href=href)  # fmt: skip
            if res.main and res.kind != "other":
                if res.main in self.by_file:
                    first = self.by_file[res.main].identifier
                    self.add("duplicate-file", MANIFEST, where(element), file=res.main,
                             first=first, second=res.identifier)  # fmt: skip
                self.by_file.setdefault(res.main, res)
        ids = {r.identifier for r in self.resources}
        for res in self.resources:
            for dep in res.element.iter("{*}dependency"):
                if dep.get("identifierref") not in ids:
                    self.add("dangling-dependency", MANIFEST, where(dep, "identifierref"),
                             owner=res.identifier, ident=dep.get("identifierref"))  # fmt: skip
        named = {path for r in self.resources for path, _ in r.files if path}
        for path in sorted(set(self.files) - named - IGNORED):
            self.add("unlisted-file", path, "/")
        lowered: dict[str, str] = {}
        for path in sorted(self.files):
            other = lowered.setdefault(path.lower(), path)
            if other != path:
                self.add("case-clash", path, "/", other=other)

    def _depends(self, owner: str, target: str, at: str, what: str) -> None:
        """Warn when the resource of the file `owner` does not depend on that of `target`."""
        mine, theirs = self.by_file.get(owner), self.by_file.get(target)
        if mine and theirs and theirs.identifier not in mine.dependencies:
            self.add("missing-dependency", owner, at, what=what, file=target,
                     owner=mine.identifier, target=theirs.identifier)  # fmt: skip

    def documents(self, kind: str, expected: str) -> list[tuple[_Resource, str, E]]:
        """(resource, file, root) of each resource of `kind` whose main file holds the
        document its type says, with its identifier counted package-wide."""
        out = []
        for res in self.resources:
            if res.kind != kind or not res.main or res.main not in self.files:
                continue
            root = self.tree(res.main)
            if root is None:
                continue
            found = etree.QName(root)
            if _local(root.tag) != expected:
                self.add("wrong-type", res.main, where(root), owner=res.identifier,
                         expected=expected, found=found.localname)  # fmt: skip
                continue
            namespace = VERSIONS.get(res.version or "")
            if namespace and found.namespace != namespace:
                self.add("version-mismatch", res.main, where(root), owner=res.identifier,
                         version=res.version, namespace=found.namespace)  # fmt: skip
            ident = str(root.get("identifier", ""))
            if ident in self.roots:
                self.add("duplicate-identifier", res.main, where(root, "identifier"),
                         ident=ident, other=self.roots[ident])  # fmt: skip
            self.roots.setdefault(ident, res.main)
            out.append((res, res.main, root))
        return out

    # ---- items and stimuli ---------------------------------------------------------------------

    def items(self) -> list[PackageItem]:
        todo = self.documents("item", "assessmentItem")
        out = []
        for done, (res, path, root) in enumerate(todo, 1):
            out.append(self.item(res, path, root))
            if self.progress:
                self.progress("check", done, len(todo))
        return out

    def item(self, res: _Resource, path: str, root: E) -> PackageItem:
        elements = [e for e in root.iter() if isinstance(e.tag, str)]
        ident, title = str(root.get("identifier", "")), str(root.get("title", ""))
        if not root.get("{http://www.w3.org/XML/1998/namespace}lang"):
            self.add("no-language", path, where(root))
        if not title.strip() or title == ident:
            self.add("bare-title", path, where(root, "title"), title=title)
        declared = {
            str(_attr(e, "identifier")): e
            for e in elements
            if _local(e.tag) == "responseDeclaration"
        }
        interactions = [e for e in elements if _attr(e, "responseIdentifier")]
        for e in interactions:
            if _attr(e, "responseIdentifier") not in declared:
                at = where(e, attr_name(e, "responseIdentifier"))
                self.add("undeclared-response", path, at, ident=_attr(e, "responseIdentifier"))
        everything = self._choices(path, elements)
        for rid, decl in declared.items():
            mine = {
                str(_attr(c, "identifier"))
                for i in interactions
                if _attr(i, "responseIdentifier") == rid
                for c in i.iter()
                if isinstance(c.tag, str) and _local(c.tag) in CHOICES
            }
            if _attr(decl, "baseType") in ("identifier", "pair", "directedPair"):
                self._keys(path, decl, mine or everything)
        stimuli = tuple(
            self._stimulus_ref(path, r) for r in children(root, "assessmentStimulusRef")
        )
        for e in elements:
            name = {"img": "src", "object": "data"}.get(_local(e.tag))
            target = resolve(path, str(e.get(name))) if name and e.get(name) else None
            if target and target not in self.files:
                self.add("missing-file", path, where(e, name), owner="The item", href=e.get(name))
        interaction = next((e for e in interactions if _local(e.tag).endswith("Interaction")), None)
        return PackageItem(
            ident,
            title,
            path,
            _local(interaction.tag) if interaction is not None else "none",
            describe(interaction),
            self._max_score(path, root, elements, interaction),
            bank_id(root, res.element),
            stimuli,
        )

    def _choices(self, path: str, elements: list[E]) -> set[str]:
        seen: dict[str, str] = {}
        for e in (e for e in elements if _local(e.tag) in CHOICES):
            ident = str(_attr(e, "identifier"))
            if ident in seen:
                self.add("duplicate-identifier", path, where(e, "identifier"), ident=ident,
                         other=f"another choice of this item ({seen[ident]})")  # fmt: skip
            seen.setdefault(ident, where(e))
        return set(seen)

    def _keys(self, path: str, decl: E, names: set[str]) -> None:
        """Every value of the correct response and every mapping key names a choice."""
        choices = ", ".join(sorted(names)) or "it has none"
        found = [(v.text or "", where(v), "correct response") for v in children(decl, "value")
                 if _local(v.getparent().tag) == "correctResponse"]  # fmt: skip
        found += [(str(_attr(m, "mapKey")), where(m, attr_name(m, "mapKey")), "mapping")
                  for m in children(decl, "mapEntry")]  # fmt: skip
        for text, at, what in found:
            for part in text.split():
                if part not in names:
                    self.add("key-not-a-choice", path, at, what=what, ident=part, choices=choices)

    def _stimulus_ref(self, path: str, ref: E) -> str:
        ident, href = str(_attr(ref, "identifier")), str(_attr(ref, "href") or "")
        target = resolve(path, href)
        if target is None or target not in self.files:
            at = where(ref, attr_name(ref, "href"))
            self.add("dangling-stimulus-ref", path, at, ident=ident, href=href)
            return ident
        root = self.tree(target)
        if root is not None and (
            _local(root.tag) != "assessmentStimulus" or root.get("identifier") != ident
        ):
            found = etree.QName(root).localname
            self.add("stimulus-ref-mismatch", path, where(ref), ident=ident, href=href,
                     found=found, found_id=root.get("identifier"))  # fmt: skip
        self._depends(path, target, where(ref), "the stimulus")
        return ident

    def _max_score(
        self, path: str, root: E, elements: list[E], interaction: E | None
    ) -> float | None:
        """MAXSCORE as declared, checked against what the rules award the correct response, and
        against a response past the interaction's limits (every option; every pairing), which
        must not score full marks by leaving the guard to the player."""
        declared = None
        for e in elements:
            if _local(e.tag) == "outcomeDeclaration" and _attr(e, "identifier") == "MAXSCORE":
                values = [v.text for v in children(e, "value")]
                declared = float(str(values[0])) if values else None
        decls = [e for e in elements if _local(e.tag) == "responseDeclaration"]
        if not decls or not children(root, "responseProcessing"):
            return declared
        correct = [str(v.text) for v in children(decls[0], "value")
                   if _local(v.getparent().tag) == "correctResponse"]  # fmt: skip
        single = _attr(decls[0], "cardinality") == "single"
        wild = None if single else hostile(interaction)
        try:
            best = rules_score(root, correct[0] if single and correct else correct)
            worst = rules_score(root, wild) if wild else None
        except _FAULTS as exc:
            self.add("rules-not-checked", path, where(root), why=str(exc) or type(exc).__name__)
            return declared
        if declared is None:
            self.add("no-max-score", path, where(root), best=best)
            declared = best
        elif abs(best - declared) > 1e-9:
            self.add("max-score-mismatch", path, where(root), declared=declared, best=best)
        if worst is not None and interaction is not None:
            how = HOSTILE_WORDS[_local(interaction.tag)]
            if worst > declared + 1e-9:
                self.add("score-above-max", path, where(interaction), how=how, worst=worst,
                         declared=declared)  # fmt: skip
            elif declared > 0 and worst >= declared - 1e-9:
                self.add("relies-on-player-limit", path, where(interaction), how=how, worst=worst)
        return declared

    def stimuli(self) -> list[PackageStimulus]:
        return [
            PackageStimulus(str(root.get("identifier", "")), str(root.get("title", "")), path)
            for _, path, root in self.documents("stimulus", "assessmentStimulus")
        ]

    # ---- tests ---------------------------------------------------------------------------------

    def tests(self, items: list[PackageItem]) -> list[PackageTest]:
        out = []
        by_path = {i.path: i for i in items}
        used: set[str] = set()
        for _, path, root in self.documents("test", "assessmentTest"):
            seen: dict[str, str] = {}
            sections = []
            for e in root.iter():
                if not isinstance(e.tag, str) or _local(e.tag) not in (
                    "testPart", "assessmentSection", "assessmentItemRef"
                ):  # fmt: skip
                    continue
                ident = str(e.get("identifier", ""))
                if ident in seen:
                    self.add("duplicate-identifier", path, where(e, "identifier"), ident=ident,
                             other=f"another part of this test ({seen[ident]})")  # fmt: skip
                seen.setdefault(ident, where(e))
                if _local(e.tag) != "assessmentSection":
                    continue
                kids = [k for k in e if isinstance(k.tag, str)]
                refs = [self._item_ref(path, k, by_path) for k in kids
                        if _local(k.tag) == "assessmentItemRef"]  # fmt: skip
                used.update(r.path for r in refs if r)
                rubric = any(_local(k.tag) == "rubricBlock" for k in kids)
                idents = tuple(r.identifier if r else "?" for r in refs)
                sections.append(PackageSection(ident, str(e.get("title", "")), idents, rubric))
            ident, title = str(root.get("identifier", "")), str(root.get("title", ""))
            out.append(PackageTest(ident, title, path, tuple(sections)))
        for item in items if out else []:
            if item.path not in used:
                self.add("item-not-in-test", item.path, "/")
        return out

    def _item_ref(self, test: str, ref: E, items: Mapping[str, PackageItem]) -> PackageItem | None:
        href = str(ref.get("href", ""))
        target = resolve(test, href)
        at, ident = where(ref, "href"), ref.get("identifier")
        if target is None or target not in self.files:
            self.add("dangling-item-ref", test, at, ident=ident, href=href,
                     why="is not in the package")  # fmt: skip
            return None
        if target not in items and self.trees.get(target, True) is None:
            return None  # delivered but not XML: said once, as not-xml
        if target not in items:
            self.add("dangling-item-ref", test, at, ident=ident, href=href,
                     why="no item resource of the manifest delivers")  # fmt: skip
            return None
        self._depends(test, target, where(ref), "the item")
        return items[target]


def unzip(data: bytes) -> dict[str, bytes]:
    """The files of a zipped package, in memory ({relative path: bytes}); folders left out."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return {n: archive.read(n) for n in archive.namelist() if not n.endswith("/")}
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ItembankError(f"The package is not a readable zip file ({exc}).") from None


class PackageRefusedError(NotDeliverableError):
    """An export refused because its package check found errors; nothing was written."""

    def __init__(self, name: str, report: PackageReport) -> None:
        super().__init__(
            f"{name} was not written: a delivery platform would refuse or mis-deliver it "
            f"({len(report.errors)} error(s); --check lists everything):",
            [f"{f.path} {f.pointer}: {f.code}: {f.message}" for f in report.errors],
        )
        self.report = report


def check_package(files: Mapping[str, bytes], progress: Progress | None = None) -> PackageReport:
    """Read a QTI package as a platform does (from its manifest) and report what it holds and
    every problem found. `progress("check", done, total)` is called once per item."""
    checker = _Checker(files, progress)
    if MANIFEST not in checker.files:
        checker.add("no-manifest", MANIFEST, "/")
        return PackageReport(len(checker.files), checker.findings)
    checker.manifest()
    stimuli = checker.stimuli()
    items = checker.items()
    tests = checker.tests(items)
    versions = sorted({r.version or "?" for r in checker.resources if r.kind != "other"})
    version = "QTI " + " and ".join(versions) if versions else "unknown"
    if len(versions) > 1:
        checker.add("mixed-versions", MANIFEST, "/manifest/resources", versions=version)
    return PackageReport(len(checker.files), checker.findings, version, items, stimuli, tests)


__all__ = ["MESSAGES", "PackageRefusedError", "check_package", "unzip"]
