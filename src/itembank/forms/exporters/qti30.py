"""QTI 3.0 content package: the same items and test as the QTI 2.1 export under QTI 3.0's names
(qti-assessment-item, qti-choice-interaction, ...), each case as a qti-assessment-stimulus file
that its items reference (qti-assessment-stimulus-ref) and depend on in the manifest, and an
IMS CP 1.2 manifest (QTI 3.0 profile) whose resources carry each item's standards
(curriculum-standards metadata), bank id, content hash and language (LOM)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from lxml import etree

from itembank.core.errors import ItembankError
from itembank.forms.exporters import Bundle, FormBundle, Progress
from itembank.forms.exporters._qti import (
    BODY_TAGS,
    CATALOG,
    XML_LANG,
    CaseRef,
    form_sections,
    item_tree,
    package_manifest,
    package_resources,
    stimulus_id,
    stimulus_tree,
    xml_bytes,
    zip_bytes,
)
from itembank.forms.exporters.qti21 import QTI as QTI21
from itembank.forms.exporters.qti21 import test_tree
from itembank.forms.manifests import delivery_id

QTI = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
CP = "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1"
CSM = "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscsmd_v1p1"
LOM = "http://ltsc.ieee.org/xsd/LOM"


def _kebab(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "-" + m.group(1).lower(), name)


def to_qti3(root21: Any) -> Any:
    """Rename a QTI 2.1 tree (built by _qti/qti21) to QTI 3.0: qti-kebab-case element and
    attribute names; XHTML stays as it is. (No rubric blocks: a case travels as a stimulus.)"""
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
    etree.cleanup_namespaces(tree, top_nsmap={None: QTI})
    clean = etree.Element(tree.tag, nsmap={None: QTI}, attrib=dict(tree.attrib))
    clean.extend(list(tree))
    return clean


def _lom(res_meta: Any, lang: str, entry: Mapping[str, Any] | None) -> None:
    """IEEE LOM (the 3.0 profile's lom): the language; for an item also its bank id and the
    content version it delivers (lifeCycle version: the content hash)."""
    lom = etree.SubElement(res_meta, f"{{{LOM}}}lom")
    general = etree.SubElement(lom, f"{{{LOM}}}general")
    if entry is not None:
        identifier = etree.SubElement(general, f"{{{LOM}}}identifier")
        etree.SubElement(identifier, f"{{{LOM}}}catalog").text = CATALOG
        etree.SubElement(identifier, f"{{{LOM}}}entry").text = str(entry["id"])
    etree.SubElement(general, f"{{{LOM}}}language").text = lang
    if entry is not None:
        version = etree.SubElement(
            etree.SubElement(lom, f"{{{LOM}}}lifeCycle"), f"{{{LOM}}}version"
        )
        etree.SubElement(version, f"{{{LOM}}}string", language="x-none").text = str(
            entry["content_hash"]
        )


def _standards(res_meta: Any, bundle: FormBundle, item: Mapping[str, Any]) -> None:
    """The item's standards as QTI 3.0 curriculum-standards metadata."""
    ident = str(item["id"])
    standards = etree.SubElement(res_meta, f"{{{CSM}}}curriculumStandardsMetadataSet",
                                 resourceLabel="item", resourcePartId=ident)  # fmt: skip
    by_framework: dict[str, list[str]] = {}
    for mapping in item["standards"]:
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


def manifest_tree(bundle: FormBundle) -> Any:
    """IMS CP 1.2 (QTI 3.0 profile): the test, each case's stimulus file and each item, which
    depends on its case's stimulus resource."""
    resources = []
    for res, source in package_resources(bundle, stimuli=True):

        def metadata(element: Any, kind: str = res.kind, source: Any = source) -> None:
            res_meta = etree.SubElement(element, f"{{{CP}}}metadata")
            if kind == "item":
                _standards(res_meta, bundle, bundle.items[source["id"]])
            _lom(res_meta, bundle.language, source if kind == "item" else None)

        resources.append(replace(res, metadata=metadata))
    return package_manifest(
        bundle.manifest["id"],
        resources,
        CP,
        {None: CP, "imscsmd": CSM, "lom": LOM},
        ("QTI Package", "3.0.0"),
        "v3p0",
    )


def files(bundle: FormBundle) -> dict[str, bytes]:
    lang = bundle.language
    test = to_qti3(test_tree(bundle))
    test.set(XML_LANG, lang)
    out = {"imsmanifest.xml": xml_bytes(manifest_tree(bundle)), "test.xml": xml_bytes(test)}
    for section, case in form_sections(bundle):
        ref = None
        if case is not None:
            stim = stimulus_id(section)
            out[f"stimuli/{stim}.xml"] = xml_bytes(
                to_qti3(stimulus_tree(case, section, QTI21, lang))
            )
            ref = CaseRef(stim, f"../stimuli/{stim}.xml", f"{section['stimulus']}: {case['title']}")
        for entry in section["items"]:
            tree = item_tree(bundle.items[entry["id"]], entry, QTI21, lang, case_ref=ref)
            out[f"items/{delivery_id(entry)}.xml"] = xml_bytes(to_qti3(tree))
    return out


def export(bundle: Bundle, *, progress: Progress | None = None) -> dict[str, bytes]:
    """The form as one zip package; progress("build", 0|1, 1) around it (under a second)."""
    if not isinstance(bundle, FormBundle):
        raise ItembankError("QTI export takes a form; scenarios are exported as html or pdf.")
    if progress:
        progress("build", 0, 1)
    name = f"{bundle.manifest['id']}-qti30.zip"
    package = {name: zip_bytes(files(bundle), bundle.manifest["created"])}
    if progress:
        progress("build", 1, 1)
    return package
