"""QTI 2.1 content package: a zip with imsmanifest.xml (IMS CP 1.1, standards as LOM
classification), one assessmentItem per item (options in the form's order, response processing
with partial credit where the format has it) and an assessmentTest with the form's sections
(a case is shown in its section's rubric block)."""

from __future__ import annotations

from typing import Any

from lxml import etree

from itembank.core.errors import ItembankError
from itembank.forms.exporters import Bundle, FormBundle
from itembank.forms.exporters._qti import (
    _sub,
    form_sections,
    item_tree,
    package_manifest,
    xhtml,
    xml_bytes,
    zip_bytes,
)

QTI = "http://www.imsglobal.org/xsd/imsqti_v2p1"
CP = "http://www.imsglobal.org/xsd/imscp_v1p1"
MD = "http://www.imsglobal.org/xsd/imsmd_v1p2"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def test_tree(bundle: FormBundle) -> Any:
    """The assessmentTest: one test part, the form's sections in order, SCORE summed."""
    m = bundle.manifest
    root = etree.Element(f"{{{QTI}}}assessmentTest", nsmap={None: QTI})
    root.set("identifier", f"TEST-{m['id']}")
    root.set("title", str((bundle.blueprint or {}).get("title", m["id"])))
    score = _sub(root, QTI, "outcomeDeclaration", identifier="SCORE", cardinality="single",
                 baseType="float")  # fmt: skip
    _sub(_sub(score, QTI, "defaultValue"), QTI, "value", "0.0")
    if m["totals"].get("time_minutes"):
        _sub(root, QTI, "timeLimits", maxTime=str(int(m["totals"]["time_minutes"]) * 60))
    part = _sub(root, QTI, "testPart", identifier="PART-1", navigationMode="linear",
                submissionMode="individual")  # fmt: skip
    for section, case in form_sections(bundle):
        node = _sub(part, QTI, "assessmentSection", identifier=f"SECTION-{section['id']}",
                    title=section["title"], visible="true")  # fmt: skip
        if case is not None:
            rubric = _sub(node, QTI, "rubricBlock", view="candidate")
            _sub(rubric, QTI, "h3", str(case["title"]))
            xhtml(case["text"], rubric, QTI)
        for entry in section["items"]:
            _sub(node, QTI, "assessmentItemRef", identifier=entry["id"],
                 href=f"items/{entry['id']}.xml")  # fmt: skip
    processing = _sub(root, QTI, "outcomeProcessing")
    total = _sub(_sub(processing, QTI, "setOutcomeValue", identifier="SCORE"), QTI, "sum")
    _sub(total, QTI, "testVariables", variableIdentifier="SCORE")
    return root


def _langstring(parent: Any, text: str, lang: str = "x-none") -> None:
    element = etree.SubElement(parent, f"{{{MD}}}langstring")
    element.set(XML_LANG, lang)
    element.text = text


def _lom(parent: Any, item: dict[str, Any], titles: Any) -> None:
    """Standards as LOM classification (purpose 'Educational Objective'), one per mapping."""
    lom = etree.SubElement(etree.SubElement(parent, f"{{{CP}}}metadata"), f"{{{MD}}}lom")
    for mapping in item["standards"]:
        fw, statement = mapping["framework"], mapping["statement"]
        classification = etree.SubElement(lom, f"{{{MD}}}classification")
        purpose = etree.SubElement(classification, f"{{{MD}}}purpose")
        _langstring(etree.SubElement(purpose, f"{{{MD}}}source"), "LOMv1.0")
        _langstring(etree.SubElement(purpose, f"{{{MD}}}value"), "Educational Objective")
        path = etree.SubElement(classification, f"{{{MD}}}taxonpath")
        _langstring(etree.SubElement(path, f"{{{MD}}}source"), fw)
        taxon = etree.SubElement(path, f"{{{MD}}}taxon")
        etree.SubElement(taxon, f"{{{MD}}}id").text = statement
        _langstring(
            etree.SubElement(taxon, f"{{{MD}}}entry"), titles.get((fw, statement), statement), "en"
        )


def manifest_tree(bundle: FormBundle) -> Any:
    m = bundle.manifest
    return package_manifest(
        m["id"],
        [e["id"] for s in m["sections"] for e in s["items"]],
        CP,
        {None: CP, "imsmd": MD, "xsi": XSI},
        ("IMS Content", "1.1"),
        "v2p1",
        lambda res, ident: _lom(res, dict(bundle.items[ident]), bundle.titles),
    )


def files(bundle: FormBundle) -> dict[str, bytes]:
    """The package's files before zipping."""
    out = {"imsmanifest.xml": xml_bytes(manifest_tree(bundle)), "test.xml": xml_bytes(
        test_tree(bundle))}  # fmt: skip
    for section in bundle.manifest["sections"]:
        for entry in section["items"]:
            tree = item_tree(bundle.items[entry["id"]], entry, QTI, bundle.titles)
            out[f"items/{entry['id']}.xml"] = xml_bytes(tree)
    return out


def export(bundle: Bundle) -> dict[str, bytes]:
    if not isinstance(bundle, FormBundle):
        raise ItembankError("QTI export takes a form; scenarios are exported as html or pdf.")
    name = f"{bundle.manifest['id']}-qti21.zip"
    return {name: zip_bytes(files(bundle), bundle.manifest["created"])}
