"""What a delivery platform relies on in a QTI package, tried with forms assembled from the sample
bank: hostile responses score through the EXPORTED rules exactly as itembank.scoring scores them
(run by the independent interpreter in tests/qti_rp.py); one identifier never names two
deliveries; a case item taken alone keeps its case; the header, language, titles, instructions
and line breaks a candidate or a platform sees; every file valid against the official XSDs."""

from __future__ import annotations

import re
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from itembank import open_bank
from itembank.core.workflow import content_hash
from itembank.forms.exporters._qti import item_tree, plain_text, title_for, xml_bytes
from itembank.forms.exporters.qti21 import QTI as QTI21
from itembank.forms.exporters.qti30 import to_qti3
from itembank.forms.manifests import delivery_id, option_order, shown_key
from itembank.forms.scoring import score, statement_answers

from .conftest import SAMPLE_BANK, TESTER, git, make_repo
from .qti_rp import Item, attr, local

pytestmark = pytest.mark.shared
FORMATS = ("qti21", "qti30")
BLUEPRINTS = {"practitioner-knowledge-live": 3, "supervisor-knowledge-live": 2}


def unzip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict[str, bytes]]]:
    """Several forms of both sample blueprints (items shared between forms in different option
    orders), each exported in both QTI versions: {format: {form id: {file: bytes}}}."""
    tmp = tmp_path_factory.mktemp("delivery")
    bank_path = make_repo(tmp, SAMPLE_BANK, "item_bank")
    bank = open_bank(bank_path)
    forms = [m["id"] for bp, n in BLUEPRINTS.items()
             for m in bank.forms.assemble(bp, n, 7, author=TESTER).manifests]  # fmt: skip
    out: dict[str, dict[str, dict[str, bytes]]] = {fmt: {} for fmt in FORMATS}
    for fmt in FORMATS:
        for form in forms:
            (written,) = bank.forms.export(form, fmt, tmp / f"{form}-{fmt}")
            out[fmt][form] = unzip(written)
    return out


@pytest.fixture(scope="module")
def bank(sample_bank_copy: Path) -> Any:
    return open_bank(sample_bank_copy)


@pytest.fixture(scope="module")
def approved(bank: Any) -> list[dict[str, Any]]:
    """Every approved item of the sample bank (every format, not only those a form picked)."""
    return [i for i in bank.items() if i["status"] == "approved"]


def entry_for(item: dict[str, Any], form: str = "f") -> dict[str, Any]:
    order = option_order(item, 3, form)
    return {"id": item["id"], "content_hash": content_hash("item", item), "option_order": order,
            "key": shown_key(item, order)}  # fmt: skip


def exported(item: dict[str, Any], fmt: str) -> bytes:
    tree = item_tree(item, entry_for(item), QTI21)
    return xml_bytes(to_qti3(tree) if fmt == "qti30" else tree)


# ---- 1. hostile responses: the exported rules and itembank.scoring agree ------------------------


def _pairs(answers: dict[str, bool]) -> list[str]:
    return [f"{s} {'TRUE' if v else 'FALSE'}" for s, v in answers.items()]


def hostile(item: dict[str, Any]) -> list[Any]:
    """Responses no well-behaved player sends, and a few it does: QTI values (an identifier,
    a list of identifiers, or a list of 'STATEMENT TRUE|FALSE' pairs; None for no response)."""
    ids = [str(o["id"]) for o in item["options"]]
    if item["format"] == "multiple_true_false":
        key: dict[str, bool] = item["key"]
        wrong = {s: not v for s, v in key.items()}
        first = next(iter(key))
        return [
            None,
            [],
            _pairs(key),  # the key
            _pairs(key) + _pairs(wrong),  # both values for every statement
            [*_pairs(key), f"{first} {'FALSE' if key[first] else 'TRUE'}"],  # both for one
            _pairs(key) * 2,  # every pair twice
            _pairs(key)[:-1] + _pairs(key)[:1],  # one statement left out, another repeated
            [*_pairs(key), "ZZ TRUE", "ZZ FALSE", "Q9 TRUE"],  # statements that do not exist
            [f"{s} TRUE" for s in ids] + [f"{s} FALSE" for s in ids],  # everything
            [f"{s} TRUE" for s in ids],
            [f"{s} FALSE" for s in ids],
            [f"{'TRUE' if v else 'FALSE'} {s}" for s, v in key.items()],  # pairs the wrong way
            _pairs(key)[1:],  # neither value for one statement
            _pairs(wrong),
        ]
    if item["format"] in ("single_best_answer", "true_false"):
        return [None, "ZZ", *ids]
    keys = [str(k) for k in item["key"]]
    others = [i for i in ids if i not in keys]
    return [
        None,
        [],
        keys,
        keys * 2,  # every key twice: still three options chosen
        [keys[0]] * (int(item["select_count"]) + 1),  # one option many times
        [*keys, "ZZ"],  # an option that does not exist
        [*keys, others[0]],  # one too many
        ids,  # everything
        keys[:-1] + others[:1],
        keys[:1],
        others,
    ]


def core_response(item: dict[str, Any], qti: Any) -> Any:
    """The same response as itembank.scoring takes it (pairs stay pairs: scoring reads them)."""
    if qti is None or item["format"] == "multiple_true_false":
        return qti
    return [qti] if isinstance(qti, str) else list(qti)


def variants(item: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The item as it is, and under the other scoring rule and other marks."""
    yield item
    other = "all_or_nothing" if item["scoring"]["rule"] == "partial_credit" else "partial_credit"
    if item["format"] in ("multiple_response", "multiple_true_false"):
        yield {**item, "scoring": {**item["scoring"], "rule": other, "max_score": 3}}
    yield {**item, "scoring": {**item["scoring"], "max_score": 0.5}}


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_responses_score_through_the_exported_rules_as_the_core_scorer(fmt: str, approved: list[dict[str, Any]]) -> None:
    checked: dict[str, int] = {}
    for item in approved:
        for variant in variants(item):
            rules = Item(exported(variant, fmt))
            for response in hostile(variant):
                expected = score(variant, core_response(variant, response))
                got = rules.score(response)["SCORE"]
                assert got == pytest.approx(expected, abs=1e-12), (item["id"], variant["scoring"], response)
                checked[variant["format"]] = checked.get(variant["format"], 0) + 1
    assert sorted(checked) == ["multiple_response", "multiple_true_false", "single_best_answer", "true_false"]
    assert checked["multiple_true_false"] == 8 * 3 * 14  # 8 approved MTF items, 3 variants each


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_statement_given_both_values_never_scores(fmt: str, approved: list[dict[str, Any]]) -> None:
    """The guard itself, in exact figures: every statement paired with both True and False
    scores 0 (not full marks), and one such statement loses exactly that statement's share."""
    for item in approved:
        if item["format"] != "multiple_true_false":
            continue
        key: dict[str, bool] = item["key"]
        rules = Item(exported(item, fmt))
        flipped = {s: not v for s, v in key.items()}
        assert rules.score(_pairs(key) + _pairs(flipped))["SCORE"] == 0.0
        first = next(iter(key))
        one_both = [*_pairs(key), f"{first} {'FALSE' if key[first] else 'TRUE'}"]
        top = float(item["scoring"]["max_score"])
        assert rules.score(one_both)["SCORE"] == pytest.approx(top * (len(key) - 1) / len(key))
        assert rules.score(one_both)["RIGHT"] == len(key) - 1


def test_scoring_reads_platform_pairs_and_a_pair_of_answers_is_wrong() -> None:
    assert statement_answers(["A TRUE", "B FALSE", "A FALSE", "C TRUE", "C TRUE", "junk", "D MAYBE"]) == {
        "A": None, "B": False, "C": True}  # fmt: skip
    mtf = {"format": "multiple_true_false", "key": {"A": True, "B": False},
           "scoring": {"rule": "partial_credit", "max_score": 2}}  # fmt: skip
    assert score(mtf, ["A TRUE", "B FALSE"]) == 2
    assert score(mtf, ["A TRUE", "A FALSE", "B FALSE"]) == 1
    assert score(mtf, ["A TRUE", "A FALSE", "B TRUE", "B FALSE"]) == 0
    assert score(mtf, ("A TRUE",)) == 1
    mr = {"format": "multiple_response", "key": ["A", "C"], "select_count": 2,
          "options": [{"id": i} for i in "ABCD"], "scoring": {"rule": "partial_credit", "max_score": 2}}  # fmt: skip
    assert score(mr, ["A", "C", "ZZ"]) == 2  # an id naming no option is ignored, not counted
    assert score(mr, ["A", "C", "B"]) == 0  # a real third option is one too many


# ---- 2. the true/false grid ----------------------------------------------------------------------


def test_multiple_true_false_is_a_tabular_match_in_both_versions(approved: list[dict[str, Any]]) -> None:
    seen = 0
    for item in approved:
        if item["format"] != "multiple_true_false":
            continue
        for fmt in FORMATS:
            root = etree.fromstring(exported(item, fmt))
            (match,) = [e for e in root.iter() if isinstance(e.tag, str) and local(e) == "matchInteraction"]
            assert match.get("class") == "qti-match-tabular"
            seen += 1
    assert seen == 16


# ---- 3. identifiers: one identifier, one delivery --------------------------------------------


def _items(files: dict[str, bytes]) -> dict[str, bytes]:
    return {n: d for n, d in files.items() if n.startswith("items/")}


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_identifier_names_two_deliveries(exports: dict[str, Any], fmt: str) -> None:
    by_identifier: dict[str, bytes] = {}
    ids_of_bank_item: dict[str, set[str]] = {}
    for form, files in exports[fmt].items():
        manifest = etree.fromstring(files["imsmanifest.xml"])
        resources = {r.get("href"): r for r in manifest.iter("{*}resource")}
        for name, data in _items(files).items():
            ident = etree.fromstring(data).get("identifier")
            assert name == f"items/{ident}.xml"
            assert resources[name].get("identifier") == f"ITEM-{ident}"
            # the same identifier anywhere is the same bytes: the same delivery
            assert by_identifier.setdefault(ident, data) == data, (form, ident)
            path = ".//{*}general/{*}identifier/{*}entry" if fmt == "qti30" else ".//{*}catalogentry/{*}entry/{*}langstring"
            entry = resources[name].find(path).text
            assert ident.startswith(f"{entry}-") and re.fullmatch(r"[0-9a-f]{8}", ident[len(entry) + 1:])
            ids_of_bank_item.setdefault(entry, set()).add(ident)
    several = {b: ids for b, ids in ids_of_bank_item.items() if len(ids) > 1}
    # the situation the issue describes: items delivered in more than one option order
    assert len(several) >= 20, len(several)


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_manifest_names_bank_id_and_content_version(exports: dict[str, Any], fmt: str, bank: Any) -> None:
    for files in exports[fmt].values():
        manifest = etree.fromstring(files["imsmanifest.xml"])
        for res in manifest.iter("{*}resource"):
            if "item" not in str(res.get("type")):
                continue
            data = files[res.get("href")]
            ident = etree.fromstring(data).get("identifier")
            bank_id = ident.rsplit("-", 1)[0]
            texts = [t.strip() for t in res.itertext() if t.strip()]
            assert bank_id in texts
            version = [t for t in texts if t.startswith("sha256:") or re.fullmatch(r"[0-9a-f]{64}", t)]
            assert len(version) == 1, texts
            item = bank.get(bank_id)
            assert version[0] == content_hash("item", item)


@pytest.mark.parametrize("fmt", FORMATS)
def test_identifiers_are_unique_and_every_reference_resolves(exports: dict[str, Any], fmt: str, bank: Any) -> None:
    for files in exports[fmt].values():
        manifest = etree.fromstring(files["imsmanifest.xml"])
        resources = list(manifest.iter("{*}resource"))
        ids = [r.get("identifier") for r in resources]
        assert len(ids) == len(set(ids))
        for r in resources:
            assert {f.get("href") for f in r.iter("{*}file")} == {r.get("href")}
            assert r.get("href") in files
            for dep in r.iter("{*}dependency"):
                assert dep.get("identifierref") in ids
        assert {r.get("href") for r in resources} == set(files) - {"imsmanifest.xml"}
        test = etree.fromstring(files["test.xml"])
        refs = [e for e in test.iter() if isinstance(e.tag, str) and local(e) == "assessmentItemRef"]
        assert len({e.get("identifier") for e in refs}) == len(refs) == len(_items(files))
        for ref in refs:
            assert etree.fromstring(files[ref.get("href")]).get("identifier") == ref.get("identifier")


# ---- 4. cases travel with their items ---------------------------------------------------------


def _case_texts(bank: Any) -> dict[str, str]:
    return {s["id"]: plain_text(s["text"]) for s in bank.records("stimulus")}


def test_a_qti30_case_item_alone_with_its_dependencies_keeps_its_case(exports: dict[str, Any], tmp_path: Path, bank: Any) -> None:
    cases = _case_texts(bank)
    checked = 0
    for form, files in exports["qti30"].items():
        manifest = etree.fromstring(files["imsmanifest.xml"])
        by_id = {r.get("identifier"): r for r in manifest.iter("{*}resource")}
        for res in by_id.values():
            deps = [d.get("identifierref") for d in res.iter("{*}dependency")]
            if res.get("type") != "imsqti_item_xmlv3p0" or not deps:
                continue
            alone = tmp_path / form / res.get("identifier")  # the item and what the manifest says it needs
            for needed in [res, *(by_id[d] for d in deps)]:
                target = alone / needed.get("href")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(files[needed.get("href")])
            item_file = alone / res.get("href")
            item = etree.parse(str(item_file)).getroot()
            (ref,) = [e for e in item if local(e) == "assessmentStimulusRef"]
            stimulus_file = (item_file.parent / ref.get("href")).resolve()
            assert stimulus_file.is_file()  # resolvable from the item alone
            stimulus = etree.parse(str(stimulus_file)).getroot()
            assert local(stimulus) == "assessmentStimulus"
            assert stimulus.get("identifier") == ref.get("identifier")
            case_id = ref.get("identifier").rsplit("-", 1)[0]
            body = " ".join("".join(stimulus.itertext()).split())
            assert cases[case_id] in body
            checked += 1
            shutil.rmtree(alone)
    assert checked >= 12 * 5


def test_a_qti21_case_item_carries_its_case(exports: dict[str, Any], bank: Any) -> None:
    cases = _case_texts(bank)
    checked = 0
    for files in exports["qti21"].values():
        test = etree.fromstring(files["test.xml"])
        assert not [e for e in test.iter() if isinstance(e.tag, str) and local(e) == "rubricBlock"]
        manifest = etree.fromstring(files["imsmanifest.xml"])
        for name, data in _items(files).items():
            bank_id = etree.fromstring(data).get("identifier").rsplit("-", 1)[0]
            record = bank.get(bank_id)
            text = " ".join("".join(etree.fromstring(data).itertext()).split())
            if record.get("stimulus"):
                assert cases[record["stimulus"]] in text, name
                checked += 1
            else:
                assert not any(case in text for case in cases.values())
        assert not [d for d in manifest.iter("{*}dependency") if "STIMULUS" in str(d.get("identifierref"))]
    assert checked >= 12 * 5


# ---- 5. header, language, titles, one instruction, line breaks --------------------------------


def test_qti21_manifest_header_is_the_qti_package_profile(exports: dict[str, Any]) -> None:
    for files in exports["qti21"].values():
        manifest = etree.fromstring(files["imsmanifest.xml"])
        meta = manifest.find("{*}metadata")
        assert meta.findtext("{*}schema") == "QTIv2.1 Package"
        assert meta.findtext("{*}schemaversion") == "1.0.0"
    for files in exports["qti30"].values():
        meta = etree.fromstring(files["imsmanifest.xml"]).find("{*}metadata")
        assert (meta.findtext("{*}schema"), meta.findtext("{*}schemaversion")) == ("QTI Package", "3.0.0")


def test_language_comes_from_bank_json(tmp_path: Path, qti_schemas: dict[str, Any]) -> None:
    bank_path = make_repo(tmp_path, SAMPLE_BANK, "item_bank")
    settings = bank_path / "bank.json"
    settings.write_text(settings.read_text().replace('"language": "en-GB"', '"language": "cy-GB"'))
    git(bank_path.parent, "commit", "-qam", "Welsh")
    bank = open_bank(bank_path)
    form = bank.forms.assemble("practitioner-knowledge-live", 1, 5, author=TESTER).manifests[0]["id"]
    XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
    for fmt in FORMATS:
        files = unzip(bank.forms.export(form, fmt, tmp_path / fmt)[0])
        roots = {n: etree.fromstring(d) for n, d in files.items() if n != "imsmanifest.xml"}
        for name, root in roots.items():
            if fmt == "qti21" and name == "test.xml":
                assert root.get(XML_LANG) is None  # QTI 2.1's assessmentTest has no xml:lang
                continue
            assert root.get(XML_LANG) == "cy-GB", name
        manifest = etree.fromstring(files["imsmanifest.xml"])
        languages = {e.text for e in manifest.iter("{*}language")}
        assert languages == {"cy-GB"}
        assert len(list(manifest.iter("{*}language"))) == len(list(manifest.iter("{*}resource")))
        assert any(n.startswith("stimuli/") for n in files) == (fmt == "qti30")


def test_language_defaults_to_en_gb_when_bank_json_has_none(tmp_path: Path) -> None:
    bank_path = make_repo(tmp_path, SAMPLE_BANK, "item_bank")
    settings = bank_path / "bank.json"
    settings.write_text(settings.read_text().replace('  "language": "en-GB",\n', ""))
    assert "language" not in settings.read_text()
    git(bank_path.parent, "commit", "-qam", "no language")
    bank = open_bank(bank_path)
    form = bank.forms.assemble("practitioner-knowledge-live", 1, 5, author=TESTER).manifests[0]["id"]
    files = unzip(bank.forms.export(form, "qti30", tmp_path / "q")[0])
    assert etree.fromstring(files["test.xml"]).get("{http://www.w3.org/XML/1998/namespace}lang") == "en-GB"


def test_titles_are_the_id_and_the_stems_first_whole_words(exports: dict[str, Any], bank: Any) -> None:
    for files in exports["qti30"].values():
        for data in _items(files).values():
            root = etree.fromstring(data)
            bank_id = root.get("identifier").rsplit("-", 1)[0]
            title = root.get("title")
            head, words = title.split(": ", 1)
            assert head == bank_id
            stem = plain_text(bank.get(bank_id)["stem"])
            cut = words.removesuffix("\u2026")
            assert stem.startswith(cut) and len(cut) <= 60
            assert (words != cut) == (stem != cut)  # an ellipsis exactly when the stem goes on
            assert stem == cut or stem[len(cut)] == " "  # whole words only
            assert "*" not in title


def test_title_escapes_markup_and_keeps_whole_words(approved: list[dict[str, Any]]) -> None:
    assert title_for("GK-0001", "Which is **best**?") == "GK-0001: Which is best?"
    assert title_for("GK-0001", "one two three four", limit=13) == "GK-0001: one two three\u2026"
    assert title_for("GK-0001", "supercalifragilistic", limit=5) == "GK-0001"
    item = next(i for i in approved if i["format"] == "single_best_answer")
    hostile_stem = {**item, "stem": 'Is 3 < 4 & "x" > \'y\'? <script>alert(1)</script>'}
    for fmt in FORMATS:
        root = etree.fromstring(exported(hostile_stem, fmt))
        assert root.get("title") == f"{item['id']}: Is 3 < 4 & \"x\" > 'y'? <script>alert(1)</script>"
        assert not [e for e in root.iter() if "script" in str(e.tag)]


def _instructions(text: str) -> list[str]:
    return re.findall(r"\bchoose (?:one|1|three|3)\b|each statement\b[^.]*\btrue or false", text.lower())


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_candidate_is_told_what_to_do_once(fmt: str, approved: list[dict[str, Any]]) -> None:
    prompts = 0
    for item in approved:
        root = etree.fromstring(exported(item, fmt))
        text = " ".join("".join(root.itertext()).split())
        said = _instructions(text)
        assert len(said) == 1, (item["id"], said)
        prompt = [e for e in root.iter() if isinstance(e.tag, str) and local(e) == "prompt"]
        prompts += len(prompt)
    # the stems of all 32 multiple-response and 8 true/false-grid items say it already; the
    # 60 single-best-answer and 11 true/false items get the prompt "Choose one answer."
    assert prompts == 71


def test_single_line_breaks_are_kept(exports: dict[str, Any]) -> None:
    stimuli = [d for files in exports["qti30"].values() for n, d in files.items() if n.startswith("stimuli/CS-0001-")]
    assert stimuli
    root = etree.fromstring(stimuli[0])
    heading = next(e for e in root.iter() if local(e) == "strong" and e.text == "What the family has said")
    following = heading.getnext()
    assert following is not None and local(following) == "br"
    assert following.tail.lstrip().startswith("When Tyler")
    item = next(d for n, d in exports["qti21"][next(iter(exports["qti21"]))].items()
                if n.startswith("items/AK-0001-"))  # fmt: skip
    assert b"<strong>What the family has said</strong><br/>" in item


# ---- 6. every exported file is valid against the official schemas ---------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_exported_file_validates(exports: dict[str, Any], qti_schemas: dict[str, Any], fmt: str) -> None:
    checked = 0
    for files in exports[fmt].values():
        for name, data in files.items():
            doc = etree.fromstring(data)
            if name == "imsmanifest.xml":
                schemas = ["cp11"] if fmt == "qti21" else ["cp30", "cp301"]
            else:
                schemas = [fmt]
            for which in schemas:
                schema = qti_schemas[which]
                assert schema.validate(doc), f"{name} ({which}): {[str(e) for e in schema.error_log][:3]}"
            checked += 1
    stimuli = 0 if fmt == "qti21" else sum(1 for f in exports[fmt].values() for n in f if n.startswith("stimuli/"))
    assert checked == sum(len(f) for f in exports[fmt].values()) == 5 * 32 + stimuli


def test_delivery_ids_in_files_are_the_manifests_delivery_ids(exports: dict[str, Any], approved: list[dict[str, Any]]) -> None:
    """The identifiers come from forms.manifests.delivery_id (shared with the results import)."""
    item = approved[0]
    entry = entry_for(item)
    assert etree.fromstring(exported(item, "qti30")).get("identifier") == delivery_id(entry)
    assert attr(etree.fromstring(exported(item, "qti21")), "identifier") == delivery_id(entry)
