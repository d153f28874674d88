"""Rendering is safe whatever a writer types, and the candidate view never shows the key."""

from __future__ import annotations

import json
from html.parser import HTMLParser

from hypothesis import given
from hypothesis import strategies as st

from itembank.core.render import candidate_html, markdown_html, reviewer_html

from .conftest import VALID_BANK

ITEM = json.loads((VALID_BANK / "items" / "TS-0002.json").read_text())
HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe src=//evil></iframe>",
    "<style>body{display:none}</style>",
]


class _Tags(HTMLParser):
    """Collects the real elements and attributes of a fragment (escaped text is not a tag)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)


def live(fragment: str) -> _Tags:
    parser = _Tags()
    parser.feed(fragment)
    return parser


def assert_safe(fragment: str) -> None:
    found = live(fragment)
    assert not {"script", "img", "iframe", "style", "object", "embed"} & set(found.tags)
    assert not [a for a, _ in found.attrs if a.startswith("on")]
    assert not [v for a, v in found.attrs if a == "href" and not (v or "").startswith(
        ("https:", "mailto:", "#"))]


def test_markdown_is_rendered() -> None:
    out = markdown_html("**Bold** and *it*\n\n- one\n- two")
    assert "<strong>Bold</strong>" in out and "<li>one</li>" in out


def test_hostile_text_is_neutralised() -> None:
    for text in HOSTILE:
        assert_safe(markdown_html(text))
    assert_safe(candidate_html({**ITEM, "stem": " ".join(HOSTILE)}))
    assert "&lt;script&gt;" in markdown_html(HOSTILE[0])  # shown as text, not run


@given(st.text(max_size=200))
def test_any_text_renders_without_live_html(text: str) -> None:
    assert_safe(markdown_html(text))


def test_candidate_view_hides_key_and_rationales() -> None:
    item = {**ITEM, "options": [{**o, "rationale": f"SECRET-{o['id']}"} for o in ITEM["options"]],
            "rationale": "SECRET-KEY-RATIONALE"}
    out = candidate_html(item, order=["H", "G", "F", "E", "D", "C", "B", "A"])
    assert "SECRET" not in out and "ib-keyed" not in out
    assert out.index("Choice H") < out.index("Choice A")
    assert "Choose 3 answers." in out
    assert '<ol class="ib-options" type="A">' in out  # lettered as the key and answers are
    reviewer = reviewer_html(item)
    assert "SECRET-A" in reviewer and "Key:</strong> A, D, F" in reviewer
