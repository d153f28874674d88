"""QTI 3.0 content package: the same items and test as the QTI 2.1 export under QTI 3.0's names
(qti-assessment-item, qti-choice-interaction, ...), with an IMS CP 1.2 manifest (QTI 3.0
profile) whose resources carry each item's standards as curriculum-standards metadata."""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from itembank.core.errors import ItembankError
from itembank.forms.exporters import Bundle, FormBundle
from itembank.forms.exporters._qti import (
    BODY_TAGS,
    item_tree,
    package_manifest,
    xml_bytes,
    zip_bytes,
)
from itembank.forms.exporters.qti21 import QTI as QTI21
from itembank.forms.exporters.qti21 import test_tree

QTI = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
CP = "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1"
CSM = "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscsmd_v1p1"


def _kebab(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "-" + m.group(1).lower(), name)


def to_qti3(root21: Any) -> Any:
    """Rename a QTI 2.1 tree (built by _qti/qti21) to QTI 3.0: qti-kebab-case element and
    attribute names; XHTML stays as it is; rubric content goes in qti-content-body."""
    old = etree.tostring(root21)
    tree = etree.fromstring(old)
    for element in list(tree.iter()):
        if not isinstance(element.tag, str):
            continue
        local = etree.QName(element).localname
        if local in BODY_TAGS:
            element.tag = f"{{{QTI}}}{local}"
            continue
        element.tag = f"{{{QTI}}}qti-{_kebab(local)}"
        for name in list(element.attrib):
            if "{" in name:
                continue
            value = element.attrib.pop(name)
            element.set(_kebab(name), value)
    for rubric in tree.iter(f"{{{QTI}}}qti-rubric-block"):
        body = etree.Element(f"{{{QTI}}}qti-content-body")
        for child in list(rubric):
            body.append(child)
        rubric.append(body)
    etree.cleanup_namespaces(tree, top_nsmap={None: QTI})
    clean = etree.Element(tree.tag, nsmap={None: QTI}, attrib=dict(tree.attrib))
    clean.extend(list(tree))
    return clean


def manifest_tree(bundle: FormBundle) -> Any:
    m = bundle.manifest

    def standards_metadata(res: Any, ident: str) -> None:
        """The item's standards as QTI 3.0 curriculum-standards metadata."""
        res_meta = etree.SubElement(res, f"{{{CP}}}metadata")
        standards = etree.SubElement(res_meta, f"{{{CSM}}}curriculumStandardsMetadataSet",
                                     resourceLabel="item", resourcePartId=ident)  # fmt: skip
        by_framework: dict[str, list[str]] = {}
        for mapping in bundle.items[ident]["standards"]:
            by_framework.setdefault(mapping["framework"], []).append(mapping["statement"])
        for fw, statements in by_framework.items():
            block = etree.SubElement(standards, f"{{{CSM}}}curriculumStandardsMetadata",
                                     providerId=fw)  # fmt: skip
            guids = etree.SubElement(block, f"{{{CSM}}}setOfGUIDs")
            for statement in statements:
                labelled = etree.SubElement(guids, f"{{{CSM}}}labelledGUID")
                etree.SubElement(labelled, f"{{{CSM}}}label").text = bundle.titles.get(
                    (fw, statement), statement
                )
                etree.SubElement(labelled, f"{{{CSM}}}GUID").text = f"{fw}:{statement}"

    return package_manifest(
        m["id"],
        [e["id"] for s in m["sections"] for e in s["items"]],
        CP,
        {None: CP, "imscsmd": CSM},
        ("QTI Package", "3.0.0"),
        "v3p0",
        standards_metadata,
    )


def files(bundle: FormBundle) -> dict[str, bytes]:
    out = {
        "imsmanifest.xml": xml_bytes(manifest_tree(bundle)),
        "test.xml": xml_bytes(to_qti3(test_tree(bundle))),
    }
    for section in bundle.manifest["sections"]:
        for entry in section["items"]:
            tree = item_tree(bundle.items[entry["id"]], entry, QTI21, bundle.titles)
            out[f"items/{entry['id']}.xml"] = xml_bytes(to_qti3(tree))
    return out


def export(bundle: Bundle) -> dict[str, bytes]:
    if not isinstance(bundle, FormBundle):
        raise ItembankError("QTI export takes a form; scenarios are exported as html or pdf.")
    name = f"{bundle.manifest['id']}-qti30.zip"
    return {name: zip_bytes(files(bundle), bundle.manifest["created"])}
