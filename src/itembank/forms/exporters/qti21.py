"""QTI 2.1 content package: a zip with imsmanifest.xml (IMS CP 1.1, QTI 2.1 package profile:
"QTIv2.1 Package"; each item's bank id, content hash, language and standards as IMS LOM
metadata), one assessmentItem per item (options in the form's order, each case item carrying its
case's text, since QTI 2.1 has no stimulus files, so an item imported alone is complete) and an
assessmentTest with the form's sections."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from lxml import etree

from itembank.core.errors import ItembankError
from itembank.forms.exporters import Bundle, FormBundle, Progress
from itembank.forms.exporters._qti import (
    CATALOG,
    _sub,
    form_sections,
    item_tree,
    package_manifest,
    package_resources,
    xml_bytes,
    zip_bytes,
)
from itembank.forms.manifests import delivery_id

QTI = "http://www.imsglobal.org/xsd/imsqti_v2p1"
CP = "http://www.imsglobal.org/xsd/imscp_v1p1"
MD = "http://www.imsglobal.org/xsd/imsmd_v1p2"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
#: The IMS QTI 2.1 content-packaging profile's name for a package of tests and items.
PACKAGE_SCHEMA = ("QTIv2.1 Package", "1.0.0")


def test_tree(bundle: FormBundle) -> Any:
    """The assessmentTest: one test part, the form's sections in order, SCORE summed. (The
    2.1 assessmentTest takes no xml:lang: the language is in the manifest's metadata.)"""
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
    for section, _case in form_sections(bundle):
        node = _sub(part, QTI, "assessmentSection", identifier=f"SECTION-{section['id']}",
                    title=section["title"], visible="true")  # fmt: skip
        for entry in section["items"]:  # a case travels with each of its items
            ident = delivery_id(entry)
            _sub(node, QTI, "assessmentItemRef", identifier=ident, href=f"items/{ident}.xml")
    processing = _sub(root, QTI, "outcomeProcessing")
    total = _sub(_sub(processing, QTI, "setOutcomeValue", identifier="SCORE"), QTI, "sum")
    _sub(total, QTI, "testVariables", variableIdentifier="SCORE")
    return root


def _langstring(parent: Any, text: str, lang: str = "x-none") -> None:
    element = etree.SubElement(parent, f"{{{MD}}}langstring")
    element.set(XML_LANG, lang)
    element.text = text


def _lom(parent: Any, lang: str, item: Mapping[str, Any] | None, entry: Mapping[str, Any] | None,
         titles: Mapping[tuple[str, str], str]) -> None:  # fmt: skip
    """IMS LOM 1.2: the language; for an item also its bank id (catalog entry), the content
    version it delivers (lifecycle version: the content hash) and its standards
    (classification, purpose 'Educational Objective', one per mapping)."""
    lom = etree.SubElement(etree.SubElement(parent, f"{{{CP}}}metadata"), f"{{{MD}}}lom")
    general = etree.SubElement(lom, f"{{{MD}}}general")
    if entry is not None:
        catalog = etree.SubElement(general, f"{{{MD}}}catalogentry")
        etree.SubElement(catalog, f"{{{MD}}}catalog").text = CATALOG
        _langstring(etree.SubElement(catalog, f"{{{MD}}}entry"), str(entry["id"]))
    etree.SubElement(general, f"{{{MD}}}language").text = lang
    if entry is not None:
        version = etree.SubElement(etree.SubElement(lom, f"{{{MD}}}lifecycle"), f"{{{MD}}}version")
        _langstring(version, str(entry["content_hash"]))
    for mapping in (item or {}).get("standards", []):
        fw, statement = mapping["framework"], mapping["statement"]
        classification = etree.SubElement(lom, f"{{{MD}}}classification")
        purpose = etree.SubElement(classification, f"{{{MD}}}purpose")
        _langstring(etree.SubElement(purpose, f"{{{MD}}}source"), "LOMv1.0")
        _langstring(etree.SubElement(purpose, f"{{{MD}}}value"), "Educational Objective")
        path = etree.SubElement(classification, f"{{{MD}}}taxonpath")
        _langstring(etree.SubElement(path, f"{{{MD}}}source"), fw)
        taxon = etree.SubElement(path, f"{{{MD}}}taxon")
        etree.SubElement(taxon, f"{{{MD}}}id").text = statement
        _langstring(etree.SubElement(taxon, f"{{{MD}}}entry"),
                    titles.get((fw, statement), statement), lang)  # fmt: skip


def manifest_tree(bundle: FormBundle) -> Any:
    lang = bundle.language
    resources = []
    for res, source in package_resources(bundle, stimuli=False):
        is_item = res.kind == "item"
        item = bundle.items[source["id"]] if is_item else None

        def metadata(
            element: Any, item: Any = item, entry: Any = source if is_item else None
        ) -> None:
            _lom(element, lang, item, entry, bundle.titles)

        resources.append(replace(res, metadata=metadata))
    return package_manifest(
        bundle.manifest["id"],
        resources,
        CP,
        {None: CP, "imsmd": MD, "xsi": XSI},
        PACKAGE_SCHEMA,
        "v2p1",
    )


def files(bundle: FormBundle) -> dict[str, bytes]:
    """The package's files before zipping."""
    out = {"imsmanifest.xml": xml_bytes(manifest_tree(bundle)), "test.xml": xml_bytes(
        test_tree(bundle))}  # fmt: skip
    for section, case in form_sections(bundle):
        for entry in section["items"]:
            tree = item_tree(bundle.items[entry["id"]], entry, QTI, bundle.language, case=case)
            out[f"items/{delivery_id(entry)}.xml"] = xml_bytes(tree)
    return out


def export(bundle: Bundle, *, progress: Progress | None = None) -> dict[str, bytes]:
    """The form as one zip package; progress("build", 0|1, 1) around it (under a second)."""
    if not isinstance(bundle, FormBundle):
        raise ItembankError("QTI export takes a form; scenarios are exported as html or pdf.")
    if progress:
        progress("build", 0, 1)
    name = f"{bundle.manifest['id']}-qti21.zip"
    package = {name: zip_bytes(files(bundle), bundle.manifest["created"])}
    if progress:
        progress("build", 1, 1)
    return package
