"""What the QTI 2.1 and 3.0 exporters share: item, stimulus and test trees (built with QTI 2.1
names and renamed for 3.0), Markdown made into well-formed XHTML, response processing that gives
the same marks as scoring.py even for responses no well-behaved player sends, the identifiers a
platform sees, readable titles, the content-package manifest and a deterministic zip.

Identifiers: a platform de-duplicates by identifier, so every item file, item identifier and
resource id is the item's delivery id (manifests.delivery_id: bank id + a short hash of the
content version and option order) and every case file the case's id + a short hash of its
content; the bank id and content hash travel in the manifest's metadata."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from lxml import etree
from lxml import html as lxml_html
from markdown_it import MarkdownIt

from itembank.core.render import instruction, markdown_html, sanitise
from itembank.forms.exporters import FormBundle
from itembank.forms.manifests import delivery_id

Record = dict[str, Any]
E = Any  # lxml elements (lxml ships no type information)

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
DEFAULT_LANGUAGE = "en-GB"
TITLE_WORDS_MAX = 60  # characters of the stem's first words in an item title
#: The catalogue the bank ids belong to, in identifier metadata (LOM catalog/entry).
CATALOG = "itembank"

#: XHTML elements QTI 2.1 and 3.0 item bodies accept, and the attributes kept on each.
BODY_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "blockquote", "code", "pre", "h3",
             "h4", "table", "thead", "tbody", "tr", "th", "td", "span", "div", "a", "hr", "sup",
             "sub"}  # fmt: skip
KEPT_ATTRIBUTES = {"a": {"href"}}
#: How the candidate is told what to do, when the stem says it already (said once, not twice).
NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven"}


@cache
def _markdown() -> MarkdownIt:
    """CommonMark as core.render has it, plus `breaks`: a single line break a writer typed
    (a bold heading over its paragraph, a list of names) stays a line break (<br/>) instead
    of running the two lines together."""
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable(
        "table"
    )


def rendered(markdown: object) -> str:
    """Markdown to sanitised HTML with line breaks kept as authored."""
    if not isinstance(markdown, str):
        return markdown_html(markdown)
    return sanitise(_markdown().render(markdown))


def _fragment(markdown: object) -> Any:
    return lxml_html.fragment_fromstring(rendered(markdown) or "<p></p>", create_parent="div")


def plain_text(markdown: object) -> str:
    """What a reader sees of some Markdown, as one line of plain text."""
    return " ".join(str(_fragment(markdown).text_content()).split())


def title_for(ident: str, stem: object, limit: int = TITLE_WORDS_MAX) -> str:
    """'ID: the stem's first words' a person can tell items apart by: whole words only, at
    most `limit` characters of them, with an ellipsis when the stem goes on."""
    words = plain_text(stem).split()
    kept: list[str] = []
    for word in words:
        if len(" ".join([*kept, word])) > limit:
            break
        kept.append(word)
    if not kept:
        return ident
    more = "\u2026" if len(kept) < len(words) else ""
    return f"{ident}: {' '.join(kept)}{more}"


def stem_instructs(item: Mapping[str, Any]) -> bool:
    """True when the stem already tells the candidate how many to choose ('Choose three') or
    to mark each statement true or false: then no prompt repeats it."""
    text = plain_text(item.get("stem", "")).lower()
    fmt = item.get("format")
    if fmt == "multiple_true_false":
        return "true or false" in text
    count = int(item.get("select_count", 1)) if fmt == "multiple_response" else 1
    word = NUMBER_WORDS.get(count, str(count))
    return re.search(rf"\bchoose\s+(?:{count}|{word})\b", text) is not None


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def stimulus_id(section: Mapping[str, Any]) -> str:
    """The identifier a platform sees for a section's case: its id + a short hash of its
    content, so a changed case never shares an identifier with the old one."""
    return f"{section['stimulus']}-{short_hash(str(section['stimulus_hash']))}"


def _copy_html(source: Any, target: E, ns: str) -> None:
    """Copy an lxml.html subtree into `target` in namespace `ns`, keeping allowed tags only
    (others become span) and dropping attributes QTI does not accept."""
    target.text = source.text  # target is always a new, empty element
    for child in source:
        if not isinstance(child.tag, str):  # comments, processing instructions
            continue
        tag = child.tag if child.tag in BODY_TAGS else "span"
        element = etree.SubElement(target, f"{{{ns}}}{tag}")
        for name in KEPT_ATTRIBUTES.get(tag, ()):
            if child.get(name):
                element.set(name, child.get(name))
        _copy_html(child, element, ns)
        if child.tail:
            element.tail = child.tail


def xhtml(markdown: object, parent: E, ns: str) -> E:
    """Render Markdown (sanitised) and append it to `parent` as well-formed XHTML."""
    blocks = etree.SubElement(parent, f"{{{ns}}}div")
    _copy_html(_fragment(markdown), blocks, ns)
    return blocks


def _inline(markdown: object, parent: E, ns: str) -> None:
    """Option text: rendered Markdown with its single paragraph unwrapped (choices take
    inline content more readily)."""
    fragment = _fragment(markdown)
    if len(fragment) == 1 and fragment[0].tag == "p":
        fragment = fragment[0]
    _copy_html(fragment, parent, ns)


def _sub(parent: E, ns: str, tag: str, text: str | None = None, **attrs: Any) -> E:
    element = etree.SubElement(parent, f"{{{ns}}}{tag}")
    for key, value in attrs.items():
        if value is not None:
            element.set(key, str(value))
    if text is not None:
        element.text = text
    return element


def _num(value: float) -> str:
    return repr(float(value))


def _base(parent: E, ns: str, kind: str, value: object) -> E:
    return _sub(parent, ns, "baseValue", str(value), baseType=kind)


def _set(parent: E, ns: str, identifier: str) -> E:
    return _sub(parent, ns, "setOutcomeValue", identifier=identifier)


def _add_one(parent: E, ns: str, counter: str) -> None:
    """counter := counter + 1"""
    total = _sub(_set(parent, ns, counter), ns, "sum")
    _sub(total, ns, "variable", identifier=counter)
    _base(total, ns, "integer", 1)


def _member(parent: E, ns: str, kind: str, value: str) -> None:
    """True when RESPONSE holds `value` (however often: duplicates count once)."""
    member = _sub(parent, ns, "member")
    _base(member, ns, kind, value)
    _sub(member, ns, "variable", identifier="RESPONSE")


def _equals(parent: E, ns: str, counter: str, value: int) -> None:
    match = _sub(parent, ns, "match")
    _sub(match, ns, "variable", identifier=counter)
    _base(match, ns, "integer", value)


def _share(parent: E, ns: str, counter: str, top: float, parts: int) -> None:
    """SCORE := counter x top / parts (the order scoring.py multiplies and divides in)."""
    divide = _sub(_set(parent, ns, "SCORE"), ns, "divide")
    product = _sub(divide, ns, "product")
    _sub(product, ns, "variable", identifier=counter)
    _base(product, ns, "float", _num(top))
    _base(divide, ns, "float", _num(parts))


def _score(parent: E, ns: str, value: float) -> None:
    _base(_set(parent, ns, "SCORE"), ns, "float", _num(value))


def _pair(statement: str, truth: bool) -> str:
    return f"{statement} {'TRUE' if truth else 'FALSE'}"


def response_processing(item: Mapping[str, Any], order: Sequence[str], root: E, ns: str) -> None:
    """Rules that award what scoring.score awards, for each format and scoring rule, without
    trusting the player to enforce maxChoices or matchMax: options and statements are counted
    one by one with `member`, so a repeated value counts once, a value naming no option or
    statement counts not at all, and a statement paired with both True and False is wrong."""
    fmt, rule = item["format"], item["scoring"]["rule"]
    top = float(item["scoring"]["max_score"])
    rp = _sub(root, ns, "responseProcessing")
    if fmt in ("single_best_answer", "true_false"):
        cond = _sub(rp, ns, "responseCondition")
        branch = _sub(cond, ns, "responseIf")
        match = _sub(branch, ns, "match")
        _sub(match, ns, "variable", identifier="RESPONSE")
        _sub(match, ns, "correct", identifier="RESPONSE")
        _score(branch, ns, top)
        _score(_sub(cond, ns, "responseElse"), ns, 0.0)
        return
    _base(_set(rp, ns, "RIGHT"), ns, "integer", 0)
    if fmt == "multiple_true_false":
        key: Mapping[str, bool] = item["key"]
        for statement, truth in key.items():  # right: the key's value given, the other not
            branch = _sub(_sub(rp, ns, "responseCondition"), ns, "responseIf")
            both = _sub(branch, ns, "and")
            _member(both, ns, "directedPair", _pair(statement, truth))
            _member(_sub(both, ns, "not"), ns, "directedPair", _pair(statement, not truth))
            _add_one(branch, ns, "RIGHT")
        if rule == "partial_credit":
            _share(rp, ns, "RIGHT", top, len(key))
            return
        cond = _sub(rp, ns, "responseCondition")
        branch = _sub(cond, ns, "responseIf")
        _equals(branch, ns, "RIGHT", len(key))
        _score(branch, ns, top)
        _score(_sub(cond, ns, "responseElse"), ns, 0.0)
        return
    keys = {str(k) for k in item["key"]}  # multiple_response
    _base(_set(rp, ns, "CHOSEN"), ns, "integer", 0)
    for option in order:
        branch = _sub(_sub(rp, ns, "responseCondition"), ns, "responseIf")
        _member(branch, ns, "identifier", option)
        _add_one(branch, ns, "CHOSEN")
        if option in keys:
            _add_one(branch, ns, "RIGHT")
    cond = _sub(rp, ns, "responseCondition")
    too_many = _sub(cond, ns, "responseIf")  # choosing more than asked scores 0
    gt = _sub(too_many, ns, "gt")
    _sub(gt, ns, "variable", identifier="CHOSEN")
    _base(gt, ns, "integer", int(item.get("select_count", len(keys))))
    _score(too_many, ns, 0.0)
    if rule == "partial_credit":
        _share(_sub(cond, ns, "responseElse"), ns, "RIGHT", top, len(keys))
        return
    exact = _sub(cond, ns, "responseElseIf")
    both = _sub(exact, ns, "and")
    _equals(both, ns, "RIGHT", len(keys))
    _equals(both, ns, "CHOSEN", len(keys))
    _score(exact, ns, top)
    _score(_sub(cond, ns, "responseElse"), ns, 0.0)


def _outcome(root: E, ns: str, identifier: str, kind: str, default: str) -> None:
    decl = _sub(root, ns, "outcomeDeclaration", identifier=identifier, cardinality="single",
                baseType=kind)  # fmt: skip
    _sub(_sub(decl, ns, "defaultValue"), ns, "value", default)


def case_block(case: Mapping[str, Any], parent: E, ns: str) -> E:
    """The case as a candidate reads it: its title, then its text."""
    block = _sub(parent, ns, "div")
    _sub(block, ns, "h3", str(case["title"]))
    xhtml(case["text"], block, ns)
    return block


@dataclass(frozen=True)
class CaseRef:
    """A QTI 3.0 item's reference to its case's qti-assessment-stimulus file."""

    identifier: str
    href: str  # relative to the item file
    title: str


def item_tree(
    item: Mapping[str, Any],
    entry: Mapping[str, Any],
    ns: str,
    lang: str = DEFAULT_LANGUAGE,
    case: Mapping[str, Any] | None = None,
    case_ref: CaseRef | None = None,
) -> E:
    """One assessmentItem (QTI 2.1 names) with the options in the form's order. `case` is
    carried inside the item (QTI 2.1: an item imported alone keeps its case); `case_ref`
    points at a stimulus file instead (QTI 3.0)."""
    fmt = item["format"]
    root = etree.Element(f"{{{ns}}}assessmentItem", nsmap={None: ns})
    root.set("identifier", delivery_id(entry))
    root.set("title", title_for(str(item["id"]), item.get("stem", "")))
    root.set(XML_LANG, lang)
    root.set("adaptive", "false")
    root.set("timeDependent", "false")
    order: Sequence[str] = entry["option_order"]
    if fmt == "multiple_true_false":
        decl = _sub(root, ns, "responseDeclaration", identifier="RESPONSE",
                    cardinality="multiple", baseType="directedPair")  # fmt: skip
        correct = _sub(decl, ns, "correctResponse")
        for sid, truth in item["key"].items():
            _sub(correct, ns, "value", _pair(sid, truth))
        mapping = _sub(decl, ns, "mapping", defaultValue="0")
        for sid, truth in item["key"].items():
            _sub(mapping, ns, "mapEntry", mapKey=_pair(sid, truth), mappedValue="1")
    else:
        single = fmt in ("single_best_answer", "true_false")
        decl = _sub(root, ns, "responseDeclaration", identifier="RESPONSE",
                    cardinality="single" if single else "multiple",
                    baseType="identifier")  # fmt: skip
        correct = _sub(decl, ns, "correctResponse")
        for k in item["key"]:
            _sub(correct, ns, "value", str(k))
        if not single:
            mapping = _sub(decl, ns, "mapping", defaultValue="0")
            for k in item["key"]:
                _sub(mapping, ns, "mapEntry", mapKey=str(k), mappedValue="1")
    _outcome(root, ns, "SCORE", "float", "0.0")
    _outcome(root, ns, "MAXSCORE", "float", _num(item["scoring"]["max_score"]))
    if fmt in ("multiple_response", "multiple_true_false"):
        _outcome(root, ns, "RIGHT", "integer", "0")  # keys chosen / statements right
    if fmt == "multiple_response":
        _outcome(root, ns, "CHOSEN", "integer", "0")  # distinct options chosen
    if case_ref is not None:
        _sub(root, ns, "assessmentStimulusRef", identifier=case_ref.identifier,
             href=case_ref.href, title=case_ref.title)  # fmt: skip
    body = _sub(root, ns, "itemBody")
    if case is not None:
        case_block(case, body, ns)
    xhtml(item["stem"], body, ns)
    prompt = None if stem_instructs(item) else instruction(item)
    options = {str(o["id"]): o for o in item["options"]}
    if fmt == "multiple_true_false":
        # A true/false grid, not drag and drop: "qti-match-tabular" is the QTI 3.0 shared
        # vocabulary class for it (QTI 3.0 Shared Vocabulary, match interaction). QTI 2.1/2.2
        # define no presentation vocabulary; `class` is allowed on every 2.1 body element, 2.1
        # players already draw matchInteraction as a grid (TAO's qtiCommonRenderer
        # matchInteraction.tpl: a table.matrix; QTIWorks likewise), and 2.x-to-3.0 converters
        # carry the class across, so the same class is the 2.1 hint too.
        interaction = _sub(body, ns, "matchInteraction", responseIdentifier="RESPONSE",
                           shuffle="false", maxAssociations=str(len(order)))  # fmt: skip
        interaction.set("class", "qti-match-tabular")
        if prompt:
            _sub(interaction, ns, "prompt", prompt)
        statements = _sub(interaction, ns, "simpleMatchSet")
        for sid in order:
            choice = _sub(statements, ns, "simpleAssociableChoice", identifier=sid, matchMax="1")
            _inline(options[sid]["text"], choice, ns)
        answers = _sub(interaction, ns, "simpleMatchSet")
        for ident, label in (("TRUE", "True"), ("FALSE", "False")):
            _sub(answers, ns, "simpleAssociableChoice", label, identifier=ident,
                 matchMax=str(len(order)))  # fmt: skip
    else:
        most = 1 if fmt in ("single_best_answer", "true_false") else int(item["select_count"])
        interaction = _sub(body, ns, "choiceInteraction", responseIdentifier="RESPONSE",
                           shuffle="false", maxChoices=str(most), minChoices="0")  # fmt: skip
        if prompt:
            _sub(interaction, ns, "prompt", prompt)
        for oid in order:
            choice = _sub(interaction, ns, "simpleChoice", identifier=oid)
            _inline(options[oid]["text"], choice, ns)
    response_processing(item, order, root, ns)
    return root


def stimulus_tree(case: Mapping[str, Any], section: Mapping[str, Any], ns: str, lang: str) -> E:
    """A case as an assessmentStimulus (QTI 2.1 names; renamed to qti-assessment-stimulus for
    3.0, where items point at it with qti-assessment-stimulus-ref)."""
    root = etree.Element(f"{{{ns}}}assessmentStimulus", nsmap={None: ns})
    root.set("identifier", stimulus_id(section))
    root.set("title", f"{section['stimulus']}: {case['title']}")
    root.set(XML_LANG, lang)
    case_block(case, _sub(root, ns, "stimulusBody"), ns)
    return root


@dataclass(frozen=True)
class Resource:
    """One manifest resource: a test, item or stimulus file and what it needs."""

    identifier: str
    kind: str  # test, item or stimulus
    href: str
    dependencies: tuple[str, ...] = ()
    metadata: Callable[[E], None] | None = field(default=None, compare=False)


def package_manifest(
    form_id: str,
    resources: Sequence[Resource],
    cp: str,
    nsmap: Mapping[str | None, str],
    schema: tuple[str, str] | None,
    qti: str,
) -> E:
    """The content-package manifest both QTI versions share. `schema` is the package's
    (name, version), if the profile has one; `qti` the type suffix (v2p1, v3p0)."""
    root = etree.Element(f"{{{cp}}}manifest", nsmap=dict(nsmap))
    root.set("identifier", f"MANIFEST-{form_id}")
    if schema is not None:
        meta = etree.SubElement(root, f"{{{cp}}}metadata")
        etree.SubElement(meta, f"{{{cp}}}schema").text = schema[0]
        etree.SubElement(meta, f"{{{cp}}}schemaversion").text = schema[1]
    etree.SubElement(root, f"{{{cp}}}organizations")
    container = etree.SubElement(root, f"{{{cp}}}resources")
    for res in resources:
        element = etree.SubElement(container, f"{{{cp}}}resource", identifier=res.identifier,
                                   type=f"imsqti_{res.kind}_xml{qti}", href=res.href)  # fmt: skip
        if res.metadata is not None:
            res.metadata(element)
        etree.SubElement(element, f"{{{cp}}}file", href=res.href)
        for needed in res.dependencies:
            etree.SubElement(element, f"{{{cp}}}dependency", identifierref=needed)
    return root


def package_resources(bundle: FormBundle, stimuli: bool) -> list[tuple[Resource, Record]]:
    """The test, then each item (and, when `stimuli`, each case before its first item), with
    the manifest entry (or section) each came from. Ids and file names are delivery ids."""
    items: list[tuple[Resource, Record]] = []
    seen: set[str] = set()
    for section in bundle.manifest["sections"]:
        case = stimulus_id(section) if section.get("stimulus") else None
        if stimuli and case is not None and case not in seen:
            seen.add(case)
            items.append((Resource(f"STIMULUS-{case}", "stimulus", f"stimuli/{case}.xml"),
                          section))  # fmt: skip
        for entry in section["items"]:
            ident = delivery_id(entry)
            needs = (f"STIMULUS-{case}",) if stimuli and case is not None else ()
            items.append((Resource(f"ITEM-{ident}", "item", f"items/{ident}.xml", needs), entry))
    test = Resource(
        f"TEST-{bundle.manifest['id']}",
        "test",
        "test.xml",
        tuple(r.identifier for r, _ in items if r.kind == "item"),
    )
    return [(test, bundle.manifest), *items]


def xml_bytes(root: E) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def zip_bytes(files: Mapping[str, bytes], stamp: str) -> bytes:
    """A zip whose bytes depend only on the files and the stamp (YYYY-MM-DDTHH:MM:SSZ)."""
    when = tuple(int(x) for x in re.findall(r"\d+", stamp)[:6])
    date_time = (max(1980, when[0]), *when[1:6]) if len(when) == 6 else (1980, 1, 1, 0, 0, 0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    return buffer.getvalue()


def form_sections(bundle: FormBundle) -> Iterable[tuple[Record, Record | None]]:
    """Each manifest section with its case (or None)."""
    for section in bundle.manifest["sections"]:
        sid = section.get("stimulus")
        yield section, (bundle.stimuli[sid] if sid else None)


__all__ = [
    "CaseRef",
    "Resource",
    "form_sections",
    "item_tree",
    "package_manifest",
    "package_resources",
    "plain_text",
    "rendered",
    "stem_instructs",
    "stimulus_id",
    "stimulus_tree",
    "title_for",
    "xhtml",
    "xml_bytes",
    "zip_bytes",
]
