"""The response-processing interpreter the QTI tests rely on (tests/qti_rp.py), checked on the
official 1EdTech response-processing templates in ../shared/qti-xsd/rptemplates (2.1 and 3.0)
with items written here by hand and scores worked out by hand, so a fault in the interpreter
cannot hide a fault in the exporter."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from .qti_rp import Item, Unsupported, outcome

pytestmark = pytest.mark.shared

CHOICE_21 = """<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="water"
  title="Composition of water" adaptive="false" timeDependent="false">
  <responseDeclaration identifier="RESPONSE" cardinality="multiple" baseType="identifier">
    <correctResponse><value>H</value><value>O</value></correctResponse>
    <mapping lowerBound="0" upperBound="2" defaultValue="-2">
      <mapEntry mapKey="H" mappedValue="1"/><mapEntry mapKey="O" mappedValue="1"/>
      <mapEntry mapKey="Cl" mappedValue="-1"/>
    </mapping>
  </responseDeclaration>
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>
  <itemBody><choiceInteraction responseIdentifier="RESPONSE" shuffle="false" maxChoices="0">
    <simpleChoice identifier="H">Hydrogen</simpleChoice><simpleChoice identifier="He">Helium</simpleChoice>
    <simpleChoice identifier="O">Oxygen</simpleChoice><simpleChoice identifier="N">Nitrogen</simpleChoice>
    <simpleChoice identifier="Cl">Chlorine</simpleChoice>
  </choiceInteraction></itemBody>
  TEMPLATE
</assessmentItem>"""

SINGLE_30 = """<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" identifier="capital"
  title="Capital" adaptive="false" time-dependent="false">
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="identifier">
    <qti-correct-response><qti-value>B</qti-value></qti-correct-response>
  </qti-response-declaration>
  <qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float"/>
  <qti-item-body><qti-choice-interaction response-identifier="RESPONSE" max-choices="1">
    <qti-simple-choice identifier="A">Leeds</qti-simple-choice>
    <qti-simple-choice identifier="B">Cardiff</qti-simple-choice>
  </qti-choice-interaction></qti-item-body>
  TEMPLATE
</qti-assessment-item>"""


def _with(item: str, template: Path) -> bytes:
    rules = etree.tostring(etree.parse(str(template)).getroot()).decode()
    return item.replace("TEMPLATE", rules).encode()


def test_map_response_template_21(shared: Path) -> None:
    data = _with(CHOICE_21, shared / "qti-xsd" / "rptemplates" / "map_response.xml")
    assert outcome(data, ["H", "O"]) == 2.0
    assert outcome(data, ["H", "Cl"]) == 0.0  # 1 - 1
    assert outcome(data, ["H", "O", "Cl"]) == 1.0  # 1 + 1 - 1
    assert outcome(data, ["H", "O", "N"]) == 0.0  # 1 + 1 - 2 (the default)
    assert outcome(data, ["He"]) == 0.0  # -2, held at the lower bound 0
    assert outcome(data, []) == 0.0  # an empty container is NULL: the isNull branch
    assert outcome(data, None) == 0.0


def test_match_correct_templates_21_and_30(shared: Path) -> None:
    data = _with(CHOICE_21, shared / "qti-xsd" / "rptemplates" / "match_correct.xml")
    assert outcome(data, ["O", "H"]) == 1.0  # containers match whatever the order
    assert outcome(data, ["H"]) == 0.0
    assert outcome(data, ["H", "O", "N"]) == 0.0
    assert outcome(data, ["H", "O", "O"]) == 0.0  # a bag: a repeated value is another value
    assert outcome(data, None) == 0.0  # match with NULL is NULL: the else branch
    v3 = shared / "qti-xsd" / "rptemplates" / "v3p0" / "rptemplates" / "match_correct.xml"
    data = _with(SINGLE_30, v3)
    assert [outcome(data, r) for r in ("B", "A", None)] == [1.0, 0.0, 0.0]


def test_unsupported_rules_are_refused(shared: Path) -> None:
    template = '<responseProcessing template="http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"/>'
    with pytest.raises(Unsupported):
        Item(CHOICE_21.replace("TEMPLATE", template).encode())
    unknown = ('<responseProcessing><setOutcomeValue identifier="SCORE"><random>'
               '<variable identifier="RESPONSE"/></random></setOutcomeValue></responseProcessing>')  # fmt: skip
    with pytest.raises(Unsupported):
        outcome(CHOICE_21.replace("TEMPLATE", unknown).encode(), ["H"])
