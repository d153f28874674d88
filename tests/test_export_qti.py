"""QTI 2.1 and 3.0 packages: every XML file validates against the official IMS XSDs, plus
checks an XSD cannot make, and responses score the same through the exported response
processing as through the core scorer."""

from __future__ import annotations

import itertools
import random
import zipfile
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from itembank import open_bank
from itembank.core.workflow import content_hash
from itembank.forms.scoring import score

from .conftest import SAMPLE_BANK, TESTER, make_repo
from .qti_rp import outcome


def evaluate_item(item_xml: bytes, response: Any) -> float:
    """SCORE after the item's exported response processing (tests/qti_rp.py runs it)."""
    return float(outcome(item_xml, response))


def entry(item: dict[str, Any], order: list[str]) -> dict[str, Any]:
    """A form manifest's entry for `item` in `order` (what the exporters take)."""
    from itembank.forms.manifests import shown_key

    return {"id": item["id"], "content_hash": content_hash("item", item), "option_order": order,
            "key": shown_key(item, order)}  # fmt: skip

BLUEPRINT = "practitioner-knowledge-live"


@pytest.fixture(scope="module")
def form(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    bank_path = make_repo(tmp_path_factory.mktemp("qti"), SAMPLE_BANK, "item_bank")
    manifest = open_bank(bank_path).forms.assemble(BLUEPRINT, 1, 21, author=TESTER).manifests[0]
    return bank_path, manifest["id"]


def package(form: tuple[Path, str], fmt: str, out: Path) -> dict[str, bytes]:
    bank_path, form_id = form
    (written,) = open_bank(bank_path).forms.export(form_id, fmt, out)
    assert written.name == f"{form_id}-{fmt}.zip"
    with zipfile.ZipFile(written) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture(scope="module")
def schemas(qti_schemas: dict[str, Any]) -> dict[str, Any]:
    return qti_schemas  # loaded once per session (conftest.py)


def _valid(schema: Any, data: bytes, name: str) -> None:
    doc = etree.fromstring(data)
    assert schema.validate(doc), f"{name}: {[str(e) for e in schema.error_log][:3]}"


def _local(element: Any) -> str:
    name = etree.QName(element).localname
    if name.startswith("qti-"):
        head, *rest = name[4:].split("-")
        name = head + "".join(w.capitalize() for w in rest)
    return name


def _get(element: Any, name: str) -> str | None:
    kebab = "".join("-" + c.lower() if c.isupper() else c for c in name)
    return element.get(name) if element.get(name) is not None else element.get(kebab)


def check_item_semantics(data: bytes) -> None:
    """What the XSD cannot check: unique identifiers, every response declared, every key and
    mapping names an existing choice."""
    root = etree.fromstring(data)
    elements = list(root.iter())
    choices = [_get(e, "identifier") for e in elements if _local(e) in ("simpleChoice", "simpleAssociableChoice")]
    assert len(choices) == len(set(choices)), "choice identifiers are not unique"
    declared = {_get(e, "identifier") for e in elements if _local(e) in ("responseDeclaration", "outcomeDeclaration")}
    used = {_get(e, "responseIdentifier") for e in elements if _get(e, "responseIdentifier")}
    used |= {_get(e, "identifier") for e in elements if _local(e) in ("variable", "mapResponse", "setOutcomeValue", "correct")}
    assert used <= declared, f"undeclared: {used - declared}"
    values = [v.text for e in elements if _local(e) == "correctResponse" for v in e]
    keys = [str(_get(e, "mapKey")) for e in elements if _local(e) == "mapEntry"]
    for value in values + keys:
        for part in str(value).split():
            assert part in choices, f"the key names {part}, which is not a choice"


def test_qti21_package_validates(form: tuple[Path, str], schemas: dict[str, Any], tmp_path: Path) -> None:
    files = package(form, "qti21", tmp_path / "q21")
    assert "imsmanifest.xml" in files and "test.xml" in files
    items = [n for n in files if n.startswith("items/")]
    assert len(items) == 30
    _valid(schemas["cp11"], files["imsmanifest.xml"], "imsmanifest.xml")
    for name, data in files.items():
        if name != "imsmanifest.xml":
            _valid(schemas["qti21"], data, name)
        if name.startswith("items/"):
            check_item_semantics(data)
    manifest = etree.fromstring(files["imsmanifest.xml"])
    hrefs = {f.get("href") for f in manifest.iter("{*}file")}
    assert hrefs == set(files) - {"imsmanifest.xml"}
    assert b"pqs-practitioner-2018" in files["imsmanifest.xml"]  # standards as metadata
    test = etree.fromstring(files["test.xml"])
    refs = [r.get("href") for r in test.iter("{*}assessmentItemRef")]
    assert sorted(refs) == sorted(items)


def test_qti30_package_validates(form: tuple[Path, str], schemas: dict[str, Any], tmp_path: Path) -> None:
    files = package(form, "qti30", tmp_path / "q30")
    _valid(schemas["cp30"], files["imsmanifest.xml"], "imsmanifest.xml")
    _valid(schemas["cp301"], files["imsmanifest.xml"], "imsmanifest.xml")
    manifest = etree.fromstring(files["imsmanifest.xml"])
    assert list(manifest.iter("{*}curriculumStandardsMetadataSet"))
    items = sorted(n for n in files if n.startswith("items/"))
    assert len(items) == 30
    stimuli = sorted(n for n in files if n.startswith("stimuli/"))
    assert len(stimuli) == 1  # the form's one case
    assert set(files) == {"imsmanifest.xml", "test.xml", *items, *stimuli}
    for name, data in files.items():
        if name == "imsmanifest.xml":
            continue
        _valid(schemas["qti30"], data, name)  # the QTI 3.0.1 ASI schema, not only well-formed
        root = etree.fromstring(data)
        if name.startswith("items/"):
            assert etree.QName(root).localname == "qti-assessment-item"
            check_item_semantics(data)
        if name.startswith("stimuli/"):
            assert etree.QName(root).localname == "qti-assessment-stimulus"
    assert etree.QName(etree.fromstring(files["test.xml"])).localname == "qti-assessment-test"
    hrefs = {f.get("href") for f in manifest.iter("{*}file")}
    assert hrefs == set(files) - {"imsmanifest.xml"}


def test_exports_are_byte_identical_run_to_run(form: tuple[Path, str], tmp_path: Path) -> None:
    bank_path, form_id = form
    bank = open_bank(bank_path)
    for fmt in ("qti21", "qti30"):
        (a,) = bank.forms.export(form_id, fmt, tmp_path / f"{fmt}-a")
        (b,) = bank.forms.export(form_id, fmt, tmp_path / f"{fmt}-b")
        assert a.read_bytes() == b.read_bytes()


def _responses(item: dict[str, Any], rng: random.Random) -> list[tuple[Any, Any]]:
    """(core-scorer response, QTI response) pairs: the key, nothing, wrong, partial, too many."""
    ids = [o["id"] for o in item["options"]]
    out: list[tuple[Any, Any]] = [(None, None)]
    if item["format"] == "multiple_true_false":
        for _ in range(6):
            answers = {s: rng.random() < 0.5 for s in ids if rng.random() < 0.85}
            out.append((answers, [f"{s} {'TRUE' if v else 'FALSE'}" for s, v in answers.items()]))
        out.append((dict(item["key"]), [f"{s} {'TRUE' if v else 'FALSE'}" for s, v in item["key"].items()]))
        return out
    if item["format"] in ("single_best_answer", "true_false"):
        return out + [([i], i) for i in ids]
    for size in range(1, len(ids) + 1):
        for combo in itertools.islice(itertools.combinations(ids, size), 6):
            out.append((list(combo), list(combo)))
    return out


@pytest.mark.parametrize("fmt", ["qti21", "qti30"])
def test_round_trip_scores_match_the_core_scorer(form: tuple[Path, str], tmp_path: Path, fmt: str) -> None:
    bank_path, _ = form
    bank = open_bank(bank_path)
    files = package(form, fmt, tmp_path / fmt)
    rng = random.Random(1)
    checked: dict[tuple[str, str], int] = {}
    for name, data in sorted(files.items()):
        if not name.startswith("items/"):
            continue
        item = bank.get(name.split("/")[1][:-4].rsplit("-", 1)[0])
        for core, qti in _responses(item, rng):
            assert evaluate_item(data, qti) == pytest.approx(score(item, core), abs=1e-12), (item["id"], core)
            key = (item["format"], item["scoring"]["rule"])
            checked[key] = checked.get(key, 0) + 1
    # partial credit is exercised where the form has it
    assert ("multiple_response", "partial_credit") in checked


def test_every_approved_item_validates_as_qti30(sample_bank_copy: Path, schemas: dict[str, Any]) -> None:
    """Every approved item of the sample bank (every format, not only those a form happened to
    pick) exported as QTI 3.0 validates against the QTI 3.0.1 item schema."""
    from itembank.forms.exporters._qti import item_tree, xml_bytes
    from itembank.forms.exporters.qti21 import QTI
    from itembank.forms.exporters.qti30 import to_qti3
    from itembank.forms.manifests import option_order

    formats = set()
    for item in open_bank(sample_bank_copy).items():
        if item["status"] != "approved":
            continue
        order = option_order(item, 3, "f")
        tree = to_qti3(item_tree(item, entry(item, order), QTI))
        _valid(schemas["qti30"], xml_bytes(tree), item["id"])
        formats.add(item["format"])
    assert formats == {"single_best_answer", "multiple_response", "true_false", "multiple_true_false"}


def test_every_format_round_trips(sample_bank_copy: Path) -> None:
    """Items of every format (not only those a form happened to pick) through QTI 2.1 rules."""
    from itembank.forms.exporters._qti import item_tree, xml_bytes
    from itembank.forms.exporters.qti21 import QTI
    from itembank.forms.manifests import option_order

    rng = random.Random(2)
    seen = set()
    for item in open_bank(sample_bank_copy).items():
        if item["status"] != "approved":
            continue
        order = option_order(item, 3, "f")
        data = xml_bytes(item_tree(item, entry(item, order), QTI))
        check_item_semantics(data)
        for core, qti in _responses(item, rng):
            assert evaluate_item(data, qti) == pytest.approx(score(item, core), abs=1e-12)
        seen.add((item["format"], item["scoring"]["rule"]))
    assert {f for f, _ in seen} == {"single_best_answer", "multiple_response", "true_false", "multiple_true_false"}


@pytest.mark.parametrize("fmt", ["qti21", "qti30"])
def test_every_format_rule_and_mark_scores_like_the_core(sample_bank_copy: Path, fmt: str) -> None:
    """The sample bank has partial credit only for multiple response / true-false and 1 mark
    everywhere, so the other rules and marks are made here: the exported response processing
    must award exactly what the core scorer awards for each (format, rule, max_score)."""
    from itembank.forms.exporters._qti import item_tree, xml_bytes
    from itembank.forms.exporters.qti21 import QTI
    from itembank.forms.exporters.qti30 import to_qti3
    from itembank.forms.manifests import option_order

    first: dict[str, dict[str, Any]] = {}
    for item in open_bank(sample_bank_copy).items():
        if item["status"] == "approved":
            first.setdefault(item["format"], item)
    rules = {"single_best_answer": ["all_or_nothing"], "true_false": ["all_or_nothing"],
             "multiple_response": ["all_or_nothing", "partial_credit"],
             "multiple_true_false": ["all_or_nothing", "partial_credit"]}
    rng = random.Random(3)
    checked = []
    for fmt_name, item in sorted(first.items()):
        for rule in rules[fmt_name]:
            for top in (1, 3, 0.5):
                variant = {**item, "scoring": {**item["scoring"], "rule": rule, "max_score": top}}
                order = option_order(variant, 3, "f")
                tree = item_tree(variant, entry(variant, order), QTI)
                data = xml_bytes(to_qti3(tree) if fmt == "qti30" else tree)
                for core, qti in _responses(variant, rng):
                    assert evaluate_item(data, qti) == pytest.approx(score(variant, core), abs=1e-12), (
                        fmt_name, rule, top, core)
                checked.append((fmt_name, rule, top))
    assert len(checked) == 18
