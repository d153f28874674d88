"""What the QTI 2.1 and 3.0 exporters share: item and test trees (built with QTI 2.1 names and
renamed for 3.0), Markdown made into well-formed XHTML, response processing that gives the
same marks as scoring.py, a deterministic zip, and a small evaluator of the response-processing
subset used here (so tests can score responses through the exported rules)."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from lxml import etree
from lxml import html as lxml_html

from itembank.core.render import instruction, markdown_html
from itembank.forms.exporters import FormBundle

Record = dict[str, Any]
E = Any  # lxml elements (lxml ships no type information)

#: XHTML elements QTI 2.1 and 3.0 item bodies accept, and the attributes kept on each.
BODY_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "blockquote", "code", "pre", "h3",
             "h4", "table", "thead", "tbody", "tr", "th", "td", "span", "div", "a", "hr", "sup",
             "sub"}  # fmt: skip
KEPT_ATTRIBUTES = {"a": {"href"}}


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


def xhtml(markdown: object, parent: E, ns: str) -> None:
    """Render Markdown (sanitised) and append it to `parent` as well-formed XHTML."""
    fragment = lxml_html.fragment_fromstring(markdown_html(markdown) or "<p></p>",
                                             create_parent="div")  # fmt: skip
    blocks = etree.SubElement(parent, f"{{{ns}}}div")
    _copy_html(fragment, blocks, ns)


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


def _set_score(parent: E, ns: str) -> E:
    return _sub(parent, ns, "setOutcomeValue", identifier="SCORE")


def _base(parent: E, ns: str, kind: str, value: object) -> E:
    return _sub(parent, ns, "baseValue", str(value), baseType=kind)


def response_processing(item: Mapping[str, Any], root: E, ns: str) -> None:
    """Rules that award what scoring.score awards, for each format and scoring rule."""
    fmt, rule = item["format"], item["scoring"]["rule"]
    top = float(item["scoring"]["max_score"])
    rp = _sub(root, ns, "responseProcessing")
    partial = rule == "partial_credit" and fmt in ("multiple_response", "multiple_true_false")
    if not partial:
        cond = _sub(rp, ns, "responseCondition")
        branch = _sub(cond, ns, "responseIf")
        match = _sub(branch, ns, "match")
        _sub(match, ns, "variable", identifier="RESPONSE")
        _sub(match, ns, "correct", identifier="RESPONSE")
        _base(_set_score(branch, ns), ns, "float", _num(top))
        _base(_set_score(_sub(cond, ns, "responseElse"), ns), ns, "float", "0.0")
        return
    parts = len(item["key"])
    tail = rp  # multiple_true_false: max_score x statements right / statements
    if fmt == "multiple_response":  # 0 for choosing too many, else max x keys chosen / keys
        cond = _sub(rp, ns, "responseCondition")
        branch = _sub(cond, ns, "responseIf")
        gt = _sub(branch, ns, "gt")
        _sub(_sub(gt, ns, "containerSize"), ns, "variable", identifier="RESPONSE")
        _base(gt, ns, "integer", int(item["select_count"]))
        _base(_set_score(branch, ns), ns, "float", "0.0")
        tail = _sub(cond, ns, "responseElse")
    divide = _sub(_set_score(tail, ns), ns, "divide")
    product = _sub(divide, ns, "product")
    _sub(product, ns, "mapResponse", identifier="RESPONSE")
    _base(product, ns, "float", _num(top))
    _base(divide, ns, "float", _num(parts))


def item_tree(
    item: Mapping[str, Any],
    entry: Mapping[str, Any],
    ns: str,
    titles: Mapping[tuple[str, str], str],
) -> E:
    """One assessmentItem (QTI 2.1 names) with the options in the form's order."""
    fmt = item["format"]
    root = etree.Element(f"{{{ns}}}assessmentItem", nsmap={None: ns})
    root.set("identifier", str(item["id"]))
    root.set("title", f"{item['id']}")
    root.set("adaptive", "false")
    root.set("timeDependent", "false")
    order: Sequence[str] = entry["option_order"]
    if fmt == "multiple_true_false":
        decl = _sub(root, ns, "responseDeclaration", identifier="RESPONSE",
                    cardinality="multiple", baseType="directedPair")  # fmt: skip
        correct = _sub(decl, ns, "correctResponse")
        for sid, truth in item["key"].items():
            _sub(correct, ns, "value", f"{sid} {'TRUE' if truth else 'FALSE'}")
        mapping = _sub(decl, ns, "mapping", defaultValue="0")
        for sid, truth in item["key"].items():
            _sub(mapping, ns, "mapEntry", mapKey=f"{sid} {'TRUE' if truth else 'FALSE'}",
                 mappedValue="1")  # fmt: skip
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
    score = _sub(root, ns, "outcomeDeclaration", identifier="SCORE", cardinality="single",
                 baseType="float")  # fmt: skip
    _sub(_sub(score, ns, "defaultValue"), ns, "value", "0.0")
    top = _sub(root, ns, "outcomeDeclaration", identifier="MAXSCORE", cardinality="single",
               baseType="float")  # fmt: skip
    _sub(_sub(top, ns, "defaultValue"), ns, "value", _num(item["scoring"]["max_score"]))
    body = _sub(root, ns, "itemBody")
    xhtml(item["stem"], body, ns)
    options = {str(o["id"]): o for o in item["options"]}
    if fmt == "multiple_true_false":
        interaction = _sub(body, ns, "matchInteraction", responseIdentifier="RESPONSE",
                           shuffle="false", maxAssociations=str(len(order)))  # fmt: skip
        _sub(interaction, ns, "prompt", instruction(item))
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
        _sub(interaction, ns, "prompt", instruction(item))
        for oid in order:
            choice = _sub(interaction, ns, "simpleChoice", identifier=oid)
            _inline(options[oid]["text"], choice, ns)
    response_processing(item, root, ns)
    return root


def _inline(markdown: object, parent: E, ns: str) -> None:
    """Option text: rendered Markdown with its single paragraph unwrapped (choices take
    inline content more readily)."""
    fragment = lxml_html.fragment_fromstring(markdown_html(markdown) or "<p></p>",
                                             create_parent="div")  # fmt: skip
    if len(fragment) == 1 and fragment[0].tag == "p":
        fragment = fragment[0]
    _copy_html(fragment, parent, ns)


def package_manifest(
    form_id: str,
    item_ids: Sequence[str],
    cp: str,
    nsmap: Mapping[str | None, str],
    schema: tuple[str, str],
    qti: str,
    item_metadata: Callable[[E, str], None],
) -> E:
    """The content-package manifest both QTI versions share: one test resource that depends on
    one resource per item. `schema` is (name, version); `qti` the type suffix (v2p1, v3p0);
    `item_metadata` adds an item's standards in that version's vocabulary."""
    root = etree.Element(f"{{{cp}}}manifest", nsmap=dict(nsmap))
    root.set("identifier", f"MANIFEST-{form_id}")
    meta = etree.SubElement(root, f"{{{cp}}}metadata")
    etree.SubElement(meta, f"{{{cp}}}schema").text = schema[0]
    etree.SubElement(meta, f"{{{cp}}}schemaversion").text = schema[1]
    etree.SubElement(root, f"{{{cp}}}organizations")
    resources = etree.SubElement(root, f"{{{cp}}}resources")
    test = etree.SubElement(resources, f"{{{cp}}}resource", identifier=f"TEST-{form_id}",
                            type=f"imsqti_test_xml{qti}", href="test.xml")  # fmt: skip
    etree.SubElement(test, f"{{{cp}}}file", href="test.xml")
    for ident in item_ids:
        etree.SubElement(test, f"{{{cp}}}dependency", identifierref=f"ITEM-{ident}")
    for ident in item_ids:
        res = etree.SubElement(resources, f"{{{cp}}}resource", identifier=f"ITEM-{ident}",
                               type=f"imsqti_item_xml{qti}", href=f"items/{ident}.xml")  # fmt: skip
        item_metadata(res, ident)
        etree.SubElement(res, f"{{{cp}}}file", href=f"items/{ident}.xml")
    return root


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


# ---- a small evaluator of the response-processing subset above (for round-trip checks) -------

Value = Any


def _local(tag: str) -> str:
    """QTI 2.1 or 3.0 element name -> QTI 2.1 camelCase local name."""
    name = str(etree.QName(tag).localname)
    if name.startswith("qti-"):
        head, *rest = name[4:].split("-")
        name = head + "".join(w.capitalize() for w in rest)
    return name


def _attr(element: E, name: str) -> str | None:
    kebab = re.sub(r"([A-Z])", lambda m: "-" + m.group(1).lower(), name)
    value = element.get(name)
    value = value if value is not None else element.get(kebab)
    return None if value is None else str(value)


def evaluate_item(item_xml: bytes, response: Value) -> float:
    """SCORE after running the item's response processing on `response`: an identifier, a
    list of identifiers, or a list of 'STATEMENT TRUE|FALSE' pairs (None for no response)."""
    root = etree.fromstring(item_xml)
    elements = list(root.iter())
    decl = next(e for e in elements if _local(e.tag) == "responseDeclaration")
    cardinality = _attr(decl, "cardinality")
    correct = [v.text for c in decl if _local(c.tag) == "correctResponse" for v in c]
    mapping = {
        str(_attr(m, "mapKey")): float(str(_attr(m, "mappedValue")))
        for c in decl
        if _local(c.tag) == "mapping"
        for m in c
    }
    default = next(
        (float(str(_attr(c, "defaultValue"))) for c in decl if _local(c.tag) == "mapping"), 0.0
    )
    variables: dict[str, Value] = {"RESPONSE": response, "SCORE": 0.0}
    for e in elements:
        if _local(e.tag) == "outcomeDeclaration":
            values = [v.text for d in e if _local(d.tag) == "defaultValue" for v in d]
            variables[str(_attr(e, "identifier"))] = float(values[0]) if values else 0.0

    def as_set(value: Value) -> set[str] | None:
        if value is None:
            return None
        return {str(value)} if isinstance(value, str) else {str(v) for v in value}

    def expr(e: E) -> Value:
        name = _local(e.tag)
        kids = [k for k in e if isinstance(k.tag, str)]
        ops: dict[str, Callable[[], Value]] = {
            "baseValue": lambda: (
                int(str(e.text))
                if _attr(e, "baseType") == "integer"
                else float(str(e.text))
                if _attr(e, "baseType") == "float"
                else e.text
            ),
            "variable": lambda: variables.get(str(_attr(e, "identifier"))),
            "correct": lambda: correct if cardinality != "single" else correct[0],
            "isNull": lambda: (lambda v: v is None or v == [])(expr(kids[0])),
            "not": lambda: not expr(kids[0]),
            "match": lambda: (
                None if expr(kids[0]) is None else as_set(expr(kids[0])) == as_set(expr(kids[1]))
            ),
            "containerSize": lambda: len(as_set(expr(kids[0])) or ()),
            "gt": lambda: expr(kids[0]) > expr(kids[1]),
            "mapResponse": lambda: sum(
                mapping.get(v, default) for v in sorted(as_set(variables["RESPONSE"]) or ())
            ),
            "product": lambda: _product(expr(k) for k in kids),
            "divide": lambda: expr(kids[0]) / expr(kids[1]),
            "sum": lambda: sum(expr(k) for k in kids),
        }
        if name not in ops:
            raise ValueError(f"the evaluator does not support <{name}>")
        return ops[name]()

    def run(rules: Iterable[E]) -> None:
        for rule in rules:
            name = _local(rule.tag)
            if name == "setOutcomeValue":
                variables[str(_attr(rule, "identifier"))] = expr(rule[0])
            elif name == "responseCondition":
                for branch in rule:
                    kind = _local(branch.tag)
                    if kind == "responseElse":
                        run(branch)
                        break
                    if expr(branch[0]):
                        run(list(branch)[1:])
                        break
            else:
                raise ValueError(f"the evaluator does not support <{name}>")

    processing = next(e for e in elements if _local(e.tag) == "responseProcessing")
    run(processing)
    return float(variables["SCORE"])


def _product(values: Iterable[Value]) -> float:
    out = 1.0
    for v in values:
        out *= v
    return out


__all__ = ["evaluate_item", "form_sections", "item_tree", "xhtml", "xml_bytes", "zip_bytes"]
