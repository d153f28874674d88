"""The package check (forms/exporters/package_check.py) and `itembank export --check`: real QTI
2.1 and 3.0 exports of a sample-bank form pass; hand-broken copies of them each give exactly the
expected finding (file, XPath, code, severity, message); export --check writes nothing; a
package with errors is never written; progress reaches the callback in a fixed sequence."""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from itembank import open_bank
from itembank.cli import run
from itembank.core.findings import Finding
from itembank.forms.exporters.package_check import MESSAGES, PackageRefusedError, check_package
from itembank.forms.exporters.package_report import PackageReport

from .conftest import SAMPLE_BANK, TESTER, make_repo

BLUEPRINT = "practitioner-knowledge-live"
QTI3 = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
Files = dict[str, bytes]


@pytest.fixture(scope="module")
def form(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, Any]]:
    bank_path = make_repo(tmp_path_factory.mktemp("pkg"), SAMPLE_BANK, "item_bank")
    manifest = open_bank(bank_path).forms.assemble(BLUEPRINT, 1, 21, author=TESTER).manifests[0]
    return bank_path, manifest["id"], manifest


@pytest.fixture(scope="module")
def packages(form: tuple[Path, str, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Files]:
    bank_path, form_id, _ = form
    out = {}
    for fmt in ("qti21", "qti30"):
        (written,) = open_bank(bank_path).forms.export(form_id, fmt, tmp_path_factory.mktemp(fmt) / "out")
        with zipfile.ZipFile(written) as archive:
            out[fmt] = {n: archive.read(n) for n in archive.namelist()}
    return out


def name(fmt: str, qti21: str) -> str:
    """An element's local name in the package's version (assessmentItem / qti-assessment-item)."""
    return qti21 if fmt == "qti21" else "qti-" + re.sub(r"([A-Z])", lambda m: "-" + m.group(1).lower(), qti21)


def xpath(fmt: str, *steps: str) -> str:
    return "/" + "/".join(name(fmt, s) for s in steps)


def items(files: Files) -> list[tuple[str, str]]:
    """(identifier, file) of each item, read independently from the manifest and the items."""
    manifest = etree.fromstring(files["imsmanifest.xml"])
    paths = [r.get("href") for r in manifest.iter("{*}resource") if "item" in r.get("type", "")]
    return [(etree.fromstring(files[p]).get("identifier"), p) for p in paths]


def edit(files: Files, path: str, change: Callable[[Any], None]) -> Files:
    root = etree.fromstring(files[path])
    change(root)
    return {**files, path: etree.tostring(root, xml_declaration=True, encoding="UTF-8")}


def first(root: Any, fmt: str, qti21: str) -> Any:
    return next(root.iter(f"{{*}}{name(fmt, qti21)}"))


def new_findings(clean: Files, broken: Files) -> list[Finding]:
    before = set(check_package(clean).findings)
    return [f for f in check_package(broken).findings if f not in before]


def message(code: str, **facts: Any) -> str:
    return MESSAGES[code][1].format(**facts)


# ---- real exports --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["qti21", "qti30"])
def test_real_exports_of_the_sample_bank_pass(packages: dict[str, Files], form: tuple[Path, str, dict[str, Any]], fmt: str) -> None:
    _, _, manifest = form
    files = packages[fmt]
    report = check_package(files)
    assert report.errors == []
    # warnings only of what issue 11's QTI work removes (language, titles, 2.1 schema name, the
    # true/false grid's guard); none about references, keys or scores
    assert {f.code for f in report.warnings} <= {"no-language", "bare-title", "manifest-schema", "relies-on-player-limit"}
    assert report.version == ("QTI 2.1" if fmt == "qti21" else "QTI 3.0")
    assert [(i.identifier, i.path) for i in report.items] == items(files)
    assert len(report.items) == manifest["totals"]["items"] == 30
    assert report.max_score == manifest["totals"]["max_score"]
    entries = [e for s in manifest["sections"] for e in s["items"]]
    assert [i.max_score for i in report.items] == [float(e["max_score"]) for e in entries]
    formats = {i.format.split(",")[0] for i in report.items}
    assert formats == {"single choice", "multiple response", "true/false", "true/false grid"}
    (test,) = report.tests
    assert [len(s.items) for s in test.sections] == [len(s["items"]) for s in manifest["sections"]]
    assert [i for s in test.sections for i in s.items] == [i.identifier for i in report.items]
    stimuli = [r.get("href") for r in etree.fromstring(files["imsmanifest.xml"]).iter("{*}resource") if "stimulus" in r.get("type", "")]
    assert [(s.identifier, s.path) for s in report.stimuli] == [(etree.fromstring(files[p]).get("identifier"), p) for p in stimuli]
    used = {i for item in report.items for i in item.stimuli}
    assert used == {s.identifier for s in report.stimuli}  # each stimulus file is used by some item


# ---- hand-broken copies: each gives exactly the expected finding ---------------------------


@pytest.mark.parametrize("fmt", ["qti21", "qti30"])
def test_duplicate_item_identifier(packages: dict[str, Files], fmt: str) -> None:
    files = packages[fmt]
    (a_id, a_path), (_, b_path) = items(files)[:2]
    broken = edit(files, b_path, lambda root: root.set("identifier", a_id))
    assert new_findings(files, broken) == [Finding(
        b_path, xpath(fmt, "assessmentItem") + "/@identifier", "duplicate-identifier", "error",
        f"{a_id!r} is also the identifier of {a_path}: a platform keeps one and drops or "
        "mis-scores the other. Give each its own.")]


@pytest.mark.parametrize("fmt", ["qti21", "qti30"])
def test_manifest_file_that_is_not_in_the_package(packages: dict[str, Files], fmt: str) -> None:
    files = packages[fmt]
    manifest = etree.fromstring(files["imsmanifest.xml"])
    resources = list(manifest.iter("{*}resource"))
    k, res = next((k, r) for k, r in enumerate(resources, 1) if "item" in r.get("type", ""))

    def rename(root: Any) -> None:
        list(root.iter("{*}resource"))[k - 1].find("{*}file").set("href", "items/gone.xml")

    broken = edit(files, "imsmanifest.xml", rename)
    assert new_findings(files, broken) == [Finding(
        "imsmanifest.xml", f"/manifest/resources/resource[{k}]/file/@href", "missing-file", "error",
        f"Resource {res.get('identifier')} names 'items/gone.xml', which is not in the package: "
        "add the file or correct the reference.")]


def test_deleted_item_file_is_reported_wherever_it_is_named(packages: dict[str, Files]) -> None:
    files = packages["qti30"]
    manifest = etree.fromstring(files["imsmanifest.xml"])
    resources = list(manifest.iter("{*}resource"))
    k, res = next((k, r) for k, r in enumerate(resources, 1) if "item" in r.get("type", ""))
    path = res.get("href")
    test_path = next(r.get("href") for r in resources if "test" in r.get("type", ""))
    test = etree.fromstring(files[test_path])
    refs = list(test.iter(f"{{{QTI3}}}qti-assessment-item-ref"))
    (ref,) = [r for r in refs if posixpath.normpath(posixpath.join(posixpath.dirname(test_path), r.get("href"))) == path]
    sections = list(test.iter(f"{{{QTI3}}}qti-assessment-section"))
    (s,) = [n for n, sec in enumerate(sections, 1) if ref in list(sec)]
    index = [r for r in sections[s - 1] if r.tag == ref.tag].index(ref) + 1
    broken = {n: d for n, d in files.items() if n != path}
    ident = res.get("identifier")
    missing = message("missing-file", owner=f"Resource {ident}", href=path)
    assert sorted(new_findings(files, broken)) == sorted([
        Finding("imsmanifest.xml", f"/manifest/resources/resource[{k}]/@href", "missing-file", "error", missing),
        Finding("imsmanifest.xml", f"/manifest/resources/resource[{k}]/file/@href", "missing-file", "error", missing),
        Finding(test_path, f"/qti-assessment-test/qti-test-part/qti-assessment-section[{s}]/qti-assessment-item-ref[{index}]/@href",
                "dangling-item-ref", "error",
                message("dangling-item-ref", ident=ref.get("identifier"), href=ref.get("href"), why="is not in the package")),
    ])


@pytest.mark.parametrize("fmt", ["qti21", "qti30"])
def test_key_that_names_no_choice(packages: dict[str, Files], fmt: str) -> None:
    files = packages[fmt]
    # a single-choice item: its key is one choice identifier
    path = next(p for _, p in items(files)
                if first(etree.fromstring(files[p]), fmt, "responseDeclaration").get("cardinality") == "single"
                and b"hoice" in files[p])
    broken = edit(files, path, lambda root: setattr(first(root, fmt, "correctResponse")[0], "text", "Z9"))
    choices = sorted(c.get("identifier") for c in etree.fromstring(files[path]).iter(f"{{*}}{name(fmt, 'simpleChoice')}"))
    assert new_findings(files, broken) == [Finding(
        path, xpath(fmt, "assessmentItem", "responseDeclaration", "correctResponse", "value"),
        "key-not-a-choice", "error",
        f"The correct response names 'Z9', which is not a choice of this item ({', '.join(choices)}): "
        "correct the key or the choice identifiers.")]


@pytest.mark.parametrize("fmt", ["qti21", "qti30"])
def test_max_score_the_rules_do_not_award(packages: dict[str, Files], fmt: str) -> None:
    files = packages[fmt]
    _, path = items(files)[0]

    def raise_max(root: Any) -> None:
        for decl in root.iter(f"{{*}}{name(fmt, 'outcomeDeclaration')}"):
            if decl.get("identifier") == "MAXSCORE":
                first(decl, fmt, "value").text = "2.0"

    broken = edit(files, path, raise_max)
    assert new_findings(files, broken) == [Finding(
        path, xpath(fmt, "assessmentItem"), "max-score-mismatch", "error",
        "MAXSCORE says 2, but the correct response scores 1 under the item's rules: make them agree.")]


def _with_stimulus_ref(files: Files, ident: str, href: str) -> tuple[Files, str]:
    """A 3.0 package whose first item (without a stimulus ref) now refers to a stimulus."""
    path = next(p for _, p in items(files) if b"qti-assessment-stimulus-ref" not in files[p])

    def add(root: Any) -> None:
        body = first(root, "qti30", "itemBody")
        ref = etree.Element(f"{{{QTI3}}}qti-assessment-stimulus-ref", identifier=ident, href=href)
        body.addprevious(ref)

    return edit(files, path, add), path


def test_dangling_stimulus_reference(packages: dict[str, Files]) -> None:
    files = packages["qti30"]
    broken, path = _with_stimulus_ref(files, "CASE-X", "../stimuli/CASE-X.xml")
    assert new_findings(files, broken) == [Finding(
        path, "/qti-assessment-item/qti-assessment-stimulus-ref/@href", "dangling-stimulus-ref", "error",
        "The item refers to the stimulus 'CASE-X' at '../stimuli/CASE-X.xml', which is not in the "
        "package, so it would show without its case: add the stimulus file or correct the href.")]


STIMULUS = (b'<?xml version="1.0" encoding="UTF-8"?>\n<qti-assessment-stimulus xmlns="' + QTI3.encode()
            + b'" identifier="CASE-X" title="A case" xml:lang="en-GB"><qti-stimulus-body><p>Text.</p>'
            b"</qti-stimulus-body></qti-assessment-stimulus>\n")


def _add_stimulus_resource(files: Files, item_path: str, depend: bool) -> Files:
    def add(root: Any) -> None:
        resources = root.find("{*}resources")
        cp = etree.QName(resources).namespace
        res = etree.SubElement(resources, f"{{{cp}}}resource", identifier="STIMULUS-X",
                               type="imsqti_stimulus_xmlv3p0", href="stimuli/CASE-X.xml")
        etree.SubElement(res, f"{{{cp}}}file", href="stimuli/CASE-X.xml")
        if depend:
            owner = next(r for r in resources if r.get("href") == item_path)
            etree.SubElement(owner, f"{{{cp}}}dependency", identifierref="STIMULUS-X")

    return edit({**files, "stimuli/CASE-X.xml": STIMULUS}, "imsmanifest.xml", add)


def test_stimulus_that_resolves_is_listed_and_used(packages: dict[str, Files]) -> None:
    files = packages["qti30"]
    with_ref, path = _with_stimulus_ref(files, "CASE-X", "../stimuli/CASE-X.xml")
    good = _add_stimulus_resource(with_ref, path, depend=True)
    assert new_findings(files, good) == []
    report = check_package(good)
    assert ("CASE-X", "A case", "stimuli/CASE-X.xml") in [(s.identifier, s.title, s.path) for s in report.stimuli]
    assert next(i for i in report.items if i.path == path).stimuli[-1] == "CASE-X"
    # without the manifest dependency: a platform importing the item alone would leave it out
    loose = _add_stimulus_resource(with_ref, path, depend=False)
    (only,) = new_findings(files, loose)
    assert (only.path, only.pointer, only.code, only.severity) == (
        path, "/qti-assessment-item/qti-assessment-stimulus-ref", "missing-dependency", "warning")
    # a reference naming another stimulus than the file holds
    wrong, _ = _with_stimulus_ref(files, "CASE-Y", "../stimuli/CASE-X.xml")
    wrong = _add_stimulus_resource(wrong, path, depend=True)
    assert [(f.code, f.message) for f in new_findings(files, wrong)] == [(
        "stimulus-ref-mismatch", "The item refers to the stimulus 'CASE-Y' at ../stimuli/CASE-X.xml, "
        "but that file holds <qti-assessment-stimulus identifier='CASE-X'>: correct the reference.")]


def test_no_manifest_and_not_xml(packages: dict[str, Files]) -> None:
    files = packages["qti21"]
    gone = check_package({n: d for n, d in files.items() if n != "imsmanifest.xml"})
    assert [(f.path, f.code) for f in gone.findings] == [("imsmanifest.xml", "no-manifest")]
    _, path = items(files)[0]
    broken = check_package({**files, path: files[path][:-40]})
    assert [(f.path, f.pointer, f.code) for f in broken.errors] == [(path, "/", "not-xml")]
    assert path not in [i.path for i in broken.items]


# ---- rules that leave a limit to the player (a hand-made one-item package) -----------------

PACKAGE_MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" identifier="M">
<metadata><schema>QTIv2.1 Package</schema><schemaversion>2.1</schemaversion></metadata>
<organizations/><resources>
<resource identifier="I" type="imsqti_item_xmlv2p1" href="i.xml"><file href="i.xml"/></resource>
</resources></manifest>"""

MTF = """<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="X" title="X: a grid"
 xml:lang="en-GB" adaptive="false" timeDependent="false">
<responseDeclaration identifier="RESPONSE" cardinality="multiple" baseType="directedPair">
<correctResponse><value>A TRUE</value><value>B FALSE</value></correctResponse>
<mapping defaultValue="0"><mapEntry mapKey="A TRUE" mappedValue="1"/><mapEntry mapKey="B FALSE" mappedValue="1"/></mapping>
</responseDeclaration>
<outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"><defaultValue><value>0.0</value></defaultValue></outcomeDeclaration>
<outcomeDeclaration identifier="MAXSCORE" cardinality="single" baseType="float"><defaultValue><value>TOPSCORE</value></defaultValue></outcomeDeclaration>
<itemBody><matchInteraction responseIdentifier="RESPONSE" shuffle="false" maxAssociations="2">
<simpleMatchSet><simpleAssociableChoice identifier="A" matchMax="1">a</simpleAssociableChoice>
<simpleAssociableChoice identifier="B" matchMax="1">b</simpleAssociableChoice></simpleMatchSet>
<simpleMatchSet><simpleAssociableChoice identifier="TRUE" matchMax="2">True</simpleAssociableChoice>
<simpleAssociableChoice identifier="FALSE" matchMax="2">False</simpleAssociableChoice></simpleMatchSet>
</matchInteraction></itemBody>
<responseProcessing>RULES</responseProcessing></assessmentItem>"""

MAPPED = """<setOutcomeValue identifier="SCORE"><mapResponse identifier="RESPONSE"/></setOutcomeValue>"""
GUARDED = """<responseCondition><responseIf><gt><containerSize><variable identifier="RESPONSE"/></containerSize>
<baseValue baseType="integer">2</baseValue></gt><setOutcomeValue identifier="SCORE"><baseValue baseType="float">0.0</baseValue>
</setOutcomeValue></responseIf><responseElse>""" + MAPPED + "</responseElse></responseCondition>"


def one_item(rules: str, top: str) -> PackageReport:
    item = MTF.replace("RULES", rules).replace("TOPSCORE", top)
    return check_package({"imsmanifest.xml": PACKAGE_MANIFEST.encode(), "i.xml": item.encode()})


def test_rules_that_rely_on_the_player_to_enforce_match_max() -> None:
    unguarded = one_item(MAPPED, "2.0")
    assert [(f.pointer, f.code, f.severity) for f in unguarded.findings] == [
        ("/assessmentItem/itemBody/matchInteraction", "relies-on-player-limit", "warning")]
    assert unguarded.findings[0].message.startswith(
        "A response that pairs every statement with every answer scores full marks (2)")
    assert one_item(GUARDED, "2.0").findings == []
    (item,) = one_item(GUARDED, "2.0").items
    assert (item.identifier, item.title, item.format, item.max_score, item.interaction) == (
        "X", "X: a grid", "true/false grid, 2 statements", 2.0, "matchInteraction")
    # a mapping that can exceed the maximum: an error, not only a warning
    above = check_package({"imsmanifest.xml": PACKAGE_MANIFEST.encode(), "i.xml": MTF.replace(
        "RULES", MAPPED).replace("TOPSCORE", "2.0").replace('mapKey="B FALSE" mappedValue="1"/>',
        'mapKey="B FALSE" mappedValue="1"/><mapEntry mapKey="A FALSE" mappedValue="1"/>').encode()})
    assert [(f.code, f.message) for f in above.errors] == [(
        "score-above-max", "A response that pairs every statement with every answer scores 3, "
        "more than the maximum 2: guard the response processing.")]


# ---- the service: check=True writes nothing; errors refuse; progress ------------------------


def test_check_writes_nothing_and_reports_what_export_writes(form: tuple[Path, str, dict[str, Any]], tmp_path: Path) -> None:
    bank_path, form_id, _ = form
    bank = open_bank(bank_path)
    calls: list[tuple[str, int, int]] = []
    result = bank.forms.export(form_id, "qti30", tmp_path / "never", check=True, progress=lambda *a: calls.append(a))
    assert not (tmp_path / "never").exists()
    assert result.files == [f"{form_id}-qti30.zip"] and result.ok
    assert calls == [("verify", 0, 1), ("verify", 1, 1), ("build", 0, 1), ("build", 1, 1),
                     *[("check", k, 30) for k in range(1, 31)]]
    calls.clear()
    written = bank.forms.export(form_id, "qti21", tmp_path / "out", progress=lambda *a: calls.append(a))
    assert [p.name for p in written] == [f"{form_id}-qti21.zip"]
    assert calls == [("verify", 0, 1), ("verify", 1, 1), ("build", 0, 1), ("build", 1, 1),
                     *[("check", k, 30) for k in range(1, 31)], ("write", 0, 1), ("write", 1, 1)]


def _breaking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the qti30 exporter write a key that names no choice in every item (an exporter bug
    the package check must catch before anything is written)."""
    import itembank.forms.service as service
    from itembank.forms.exporters import exporter
    from itembank.forms.exporters._qti import zip_bytes
    from itembank.forms.exporters.package_check import unzip

    real = exporter("qti30")

    def broken(bundle: Any, *, progress: Any = None) -> dict[str, bytes]:
        out = {}
        for zname, data in real(bundle).items():
            files = unzip(data)
            for path in [p for p in files if p.startswith("items/")]:
                files = edit(files, path, lambda root: setattr(first(root, "qti30", "correctResponse")[0], "text", "Z9"))
            out[zname] = zip_bytes(files, "2026-01-01T00:00:00Z")
        return out

    monkeypatch.setattr(service, "exporter", lambda fmt: broken if fmt == "qti30" else exporter(fmt))


def test_export_with_package_errors_writes_nothing(form: tuple[Path, str, dict[str, Any]], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    bank_path, form_id, _ = form
    _breaking(monkeypatch)
    with pytest.raises(PackageRefusedError) as refused:
        open_bank(bank_path).forms.export(form_id, "qti30", tmp_path / "out")
    assert not (tmp_path / "out").exists() and list(tmp_path.iterdir()) == []
    errors = refused.value.report.errors
    # every item's key; a multiple-response key then also scores less than MAXSCORE
    assert {f.path for f in errors if f.code == "key-not-a-choice"} == {i.path for i in refused.value.report.items}
    assert {f.code for f in errors} == {"key-not-a-choice", "max-score-mismatch"}
    args = ["export", form_id, "--format", "qti30", "--bank", str(bank_path)]
    assert run([*args, "--out", str(tmp_path / "cli")]) == 1
    assert not (tmp_path / "cli").exists()
    assert "was not written: a delivery platform would refuse" in capsys.readouterr().err
    assert run([*args, "--check"]) == 1
    out = capsys.readouterr().out
    assert "key-not-a-choice in" in out and "error(s)" in out


# ---- the command line ------------------------------------------------------------------------


def test_cli_check_prints_what_a_platform_receives(form: tuple[Path, str, dict[str, Any]], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    bank_path, form_id, _ = form
    target = tmp_path / "not-made"
    code = run(["export", form_id, "--format", "qti21", "--check", "--out", str(target), "--bank", str(bank_path)])
    captured = capsys.readouterr()
    assert code == 0 and not target.exists()
    assert captured.err == ""  # not a terminal: no progress lines
    lines = captured.out.splitlines()
    assert lines[0] == f"{form_id} as qti21 would write 1 file(s) (nothing written: this is a check):"
    assert lines[1].startswith(f"{form_id}-qti21.zip (QTI 2.1, 32 files): 30 items, max score 30")
    (written,) = open_bank(bank_path).forms.export(form_id, "qti21", tmp_path / "z")
    report = check_package(_unzipped(written))
    for item in report.items:
        top = f"{item.max_score:g}"
        assert f"    {item.identifier} | {item.title} | {item.format} | {top} | {item.bank_id or '-'}" in lines
    assert lines[-1] == f"  0 error(s), {len(report.warnings)} warning(s)"


def _unzipped(path: Path) -> Files:
    with zipfile.ZipFile(path) as archive:
        return {n: archive.read(n) for n in archive.namelist()}


def test_cli_progress_lines_and_quiet(form: tuple[Path, str, dict[str, Any]], tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    bank_path, form_id, _ = form
    args = ["export", form_id, "--format", "qti30", "--bank", str(bank_path)]
    assert run([*args, "--out", str(tmp_path / "a"), "--progress"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == ["  verify 0/1", "  verify 1/1", "  build 0/1", "  build 1/1",
                   *[f"  check {k}/30" for k in range(1, 31)], "  write 0/1", "  write 1/1"]
    assert run([*args, "--out", str(tmp_path / "b"), "--progress", "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    assert run(args) == 2  # neither --out nor --check
    assert "--out DIR" in capsys.readouterr().err


def test_cli_check_of_papers_says_what_they_contain(form: tuple[Path, str, dict[str, Any]], tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    bank_path, form_id, manifest = form
    code = run(["export", form_id, "--format", "pdf", "--check", "--out", str(tmp_path / "p"), "--bank", str(bank_path)])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0 and not (tmp_path / "p").exists()
    bank = open_bank(bank_path)
    cases = "; ".join(bank.get(s["stimulus"])["title"] for s in manifest["sections"] if s.get("stimulus"))
    sections = "; ".join(f"{s['title']} ({len(s['items'])})" for s in manifest["sections"])
    words = {"single_best_answer": "single best answer", "multiple_response": "multiple response",
             "true_false": "true/false", "multiple_true_false": "true/false grid"}
    counts: dict[str, int] = {}
    for entry in (e for s in manifest["sections"] for e in s["items"]):
        kind = words[bank.get(entry["id"])["format"]]
        counts[kind] = counts.get(kind, 0) + 1
    assert len(counts) == 4 and sum(counts.values()) == 30
    assert lines[0] == f"{form_id} as pdf would write 2 file(s) (nothing written: this is a check):"
    assert lines[1] == (
        f"  {form_id}-candidate-paper.pdf: the candidate paper: 30 questions, 30 marks, "
        f"{manifest['totals']['time_minutes']} minutes; sections: {sections}; case(s): {cases}; "
        "formats: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    assert lines[2] == f"  {form_id}-answer-key.pdf: the answer key and marking scheme for 30 questions (confidential: for markers only)"
    assert lines[3] == "  Page counts are known only once the papers are printed."
    # the names are those the html exporter writes (checked against a real export)
    written = open_bank(bank_path).forms.export(form_id, "html", tmp_path / "h")
    assert sorted(p.name.replace(".html", ".pdf") for p in written) == sorted(line.split(":")[0].strip() for line in lines[1:3])


# ---- the check's interpreter scores like the core scorer -----------------------------------


@pytest.mark.parametrize("fmt", ["qti21", "qti30"])
def test_the_checks_interpreter_scores_like_the_core_scorer(packages: dict[str, Files], form: tuple[Path, str, dict[str, Any]], fmt: str) -> None:
    """package_rules.score, run on each exported item's own rules, awards what
    itembank.forms.scoring awards: the key, nothing, every single option, random subsets and
    random true/false answers (so the max-score checks rest on a faithful reading)."""
    import random

    from itembank.forms.exporters.package_rules import score as rules_score
    from itembank.forms.scoring import score

    bank = open_bank(form[0])
    rng = random.Random(11)
    report = check_package(packages[fmt])
    seen = set()
    for entry in report.items:
        item = bank.get(entry.bank_id or entry.identifier)
        root = etree.fromstring(packages[fmt][entry.path])
        ids = [str(o["id"]) for o in item["options"]]
        cases: list[tuple[Any, Any]] = [(None, None)]
        if item["format"] == "multiple_true_false":
            for _ in range(8):
                answers = {s: rng.random() < 0.5 for s in ids if rng.random() < 0.85}
                cases.append((answers, [f"{s} {'TRUE' if v else 'FALSE'}" for s, v in answers.items()]))
            cases.append((dict(item["key"]), [f"{s} {'TRUE' if v else 'FALSE'}" for s, v in item["key"].items()]))
        elif item["format"] in ("single_best_answer", "true_false"):
            cases += [([i], i) for i in ids]
        else:
            for _ in range(8):
                chosen = rng.sample(ids, rng.randint(1, len(ids)))
                cases.append((chosen, chosen))
            cases.append((list(item["key"]), list(item["key"])))
        for core, qti in cases:
            assert rules_score(root, qti) == pytest.approx(score(item, core), abs=1e-12), (item["id"], core)
        seen.add(item["format"])
    assert seen == {"single_best_answer", "multiple_response", "true_false", "multiple_true_false"}


def test_the_interpreter_follows_the_standard_templates_and_says_what_it_cannot() -> None:
    from itembank.forms.exporters.package_rules import Unsupported
    from itembank.forms.exporters.package_rules import score as rules_score

    item = MTF.replace("TOPSCORE", "2.0")
    template = item.replace("<responseProcessing>RULES</responseProcessing>",
                            '<responseProcessing template="http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"/>')
    root = etree.fromstring(template.encode())
    assert rules_score(root, ["A TRUE", "B FALSE"]) == 1.0
    assert rules_score(root, ["B FALSE", "A TRUE"]) == 1.0
    assert rules_score(root, ["A TRUE"]) == 0.0
    mapped = etree.fromstring(template.replace("match_correct", "map_response").encode())
    assert rules_score(mapped, ["A TRUE", "B TRUE"]) == 1.0
    odd = etree.fromstring(item.replace("RULES", '<lookupOutcomeValue identifier="SCORE"><null/></lookupOutcomeValue>').encode())
    with pytest.raises(Unsupported, match="lookupOutcomeValue"):
        rules_score(odd, ["A TRUE"])
    report = check_package({"imsmanifest.xml": PACKAGE_MANIFEST.encode(), "i.xml": etree.tostring(odd)})
    assert [(f.code, f.message) for f in report.findings] == [(
        "rules-not-checked", "The response processing could not be followed here (the rules use "
        "<lookupOutcomeValue>); check the max score by hand.")]


def test_more_hand_broken_copies_each_give_exactly_their_findings(packages: dict[str, Files]) -> None:
    files = packages["qti21"]
    manifest = etree.fromstring(files["imsmanifest.xml"])
    resources = list(manifest.iter("{*}resource"))
    t, test_res = next((k, r) for k, r in enumerate(resources, 1) if "test" in r.get("type", ""))
    i, item_res = next((k, r) for k, r in enumerate(resources, 1) if "item" in r.get("type", ""))
    test_path, item_path = test_res.get("href"), item_res.get("href")
    deps = len(test_res.findall("{*}dependency"))

    def depend_on_nothing(root: Any) -> None:
        res = list(root.iter("{*}resource"))[t - 1]
        etree.SubElement(res, res.find("{*}file").tag.replace("file", "dependency"), identifierref="NOPE")

    assert [(f.path, f.pointer, f.code, f.severity) for f in new_findings(files, edit(files, "imsmanifest.xml", depend_on_nothing))] == [
        ("imsmanifest.xml", f"/manifest/resources/resource[{t}]/dependency[{deps + 1}]/@identifierref", "dangling-dependency", "error")]
    assert [(f.path, f.code) for f in new_findings(files, {**files, "extra.txt": b"x"})] == [("extra.txt", "unlisted-file")]
    assert sorted((f.path, f.code, f.severity) for f in new_findings(files, {**files, "IMSManifest.xml": b"<x/>"})) == [
        ("IMSManifest.xml", "unlisted-file", "warning"), ("imsmanifest.xml", "case-clash", "error")]
    # an interaction recording a response nobody declared
    single = next(p for _, p in items(files) if b'cardinality="single"' in files[p])
    undeclared = edit(files, single, lambda root: first(root, "qti21", "choiceInteraction").set("responseIdentifier", "R2"))
    assert [(f.path, f.pointer, f.code) for f in new_findings(files, undeclared)] == [
        (single, "/assessmentItem/itemBody/choiceInteraction/@responseIdentifier", "undeclared-response")]

    # an item no test uses
    def drop_ref(root: Any) -> None:
        ref = next(r for r in root.iter("{*}assessmentItemRef") if r.get("href") == item_path)
        ref.getparent().remove(ref)

    assert [(f.path, f.pointer, f.code, f.severity) for f in new_findings(files, edit(files, test_path, drop_ref))] == [
        (item_path, "/", "item-not-in-test", "warning")]

    # a 3.0 resource type on a 2.1 item: the file is not what the type says, and versions mix
    def retype(root: Any) -> None:
        list(root.iter("{*}resource"))[i - 1].set("type", "imsqti_item_xmlv3p0")

    assert sorted((f.path, f.code) for f in new_findings(files, edit(files, "imsmanifest.xml", retype))) == [
        ("imsmanifest.xml", "mixed-versions"), (item_path, "version-mismatch")]
