"""Employer themes: suppression of small groups (and of the complementary national figures),
change since the employer's earlier administration, and themes only beyond sampling error."""

from __future__ import annotations

from itembank.results.subscores import FeedbackSettings
from itembank.results.themes import Sitting, differs, employer_report, employers_of

SETTINGS = FeedbackSettings(min_group_size=10, theme_level=0.05)


def sitting(
    name: str, date: str, groups: dict[str, list[tuple[str, bool]]], prefix: str = "C"
) -> Sitting:
    """employer -> [(area, at expectation)...]: one candidate per tuple, areas 'law' and
    'harm' (the same flag for both unless the area is 'harm-only'/'law-only')."""
    candidates, employers, law, harm = [], [], [], []
    for employer, people in groups.items():
        for i, (area, ok) in enumerate(people):
            candidates.append(f"{prefix}-{employer[:3]}-{i:03d}")
            employers.append(employer)
            law.append(ok if area in ("both", "law-only") else True)
            harm.append(ok if area in ("both", "harm-only") else True)
    return Sitting(
        administration=name,
        date=date,
        candidates=tuple(candidates),
        employers=tuple(employers),
        at_expectation={"law": tuple(law), "harm": tuple(harm)},
        titles={"law": "The law", "harm": "Harm"},
    )


def people(n_ok: int, n_not: int, area: str = "both") -> list[tuple[str, bool]]:
    return [(area, True)] * n_ok + [(area, False)] * n_not


def test_an_employer_under_the_minimum_gets_no_figure_and_leaves_the_national_figure() -> None:
    now = sitting(
        "form-2026-11-30",
        "2026-11-30",
        {"Alpha": people(40, 10), "Beta": people(30, 20), "Tiny": people(0, 9)},
    )
    met = dict.fromkeys(now.candidates, True)
    tiny = employer_report("Tiny", now, [], met, SETTINGS)
    assert (tiny.candidates, tiny.met) == (None, None)
    assert all(r.suppressed and r.share_met is None and r.candidates is None for r in tiny.rows)
    assert tiny.notes[0] == (
        "Fewer than 10 candidates of this employer sat form-2026-11-30: no figures are given, "
        "so that no candidate can be singled out."
    )
    alpha = employer_report("Alpha", now, [], met, SETTINGS)
    beta = employer_report("Beta", now, [], met, SETTINGS)
    # The national share is over the shown employers only: (40 + 30) / 100, not 70 / 109, so
    # national minus Alpha minus Beta cannot give Tiny's 0 of 9.
    assert {r.national_share_met for r in (*alpha.rows, *beta.rows, *tiny.rows)} == {0.7}
    assert (alpha.candidates, alpha.met, alpha.rows[0].share_met) == (50, 50, 0.8)


def test_met_is_shown_only_with_enough_decisions() -> None:
    now = sitting("f-2026-11-30", "2026-11-30", {"Alpha": people(12, 0), "Beta": people(20, 0)})
    met: dict[str, bool | None] = dict.fromkeys(now.candidates, True)
    for c in now.candidates[:3]:
        met[c] = None  # pending third marks: 9 decided of 12
    alpha = employer_report("Alpha", now, [], met, SETTINGS)
    assert (alpha.candidates, alpha.met) == (12, None)
    assert "3 decision(s) are still pending." in alpha.notes


def test_a_theme_only_beyond_sampling_error() -> None:
    # 30/50 against 120/150: pooled 0.75, se 0.0707, z = -2.83 -> development; 36/50: pooled
    # 0.78, se 0.0676, z = -1.18 -> none (two-sided 5%: 1.96).
    assert differs(30, 50, 120, 150, 0.05) == -1
    assert differs(36, 50, 120, 150, 0.05) == 0
    assert differs(48, 50, 120, 150, 0.05) == 1
    now = sitting(
        "f-2026-11-30",
        "2026-11-30",
        {
            "Alpha": people(30, 20, "law-only"),
            "Beta": people(36, 14, "law-only"),
            "Rest": people(120, 30, "law-only"),
        },
    )
    met = dict.fromkeys(now.candidates, True)
    alpha = employer_report("Alpha", now, [], met, SETTINGS)
    beta = employer_report("Beta", now, [], met, SETTINGS)
    assert alpha.development_themes == ("The law",) and alpha.strengths == ()
    assert [(r.group, r.theme) for r in alpha.rows] == [("law", "development"), ("harm", "")]
    assert beta.development_themes == () and beta.rows[0].share_met == 0.72


def test_change_since_the_earlier_administration_and_its_suppression() -> None:
    before = sitting(
        "f-2026-05-01",
        "2026-05-01",
        {"Alpha": people(20, 20), "Beta": people(5, 4), "Gamma": people(10, 0)},
        prefix="P",
    )
    now = sitting(
        "f-2026-11-30",
        "2026-11-30",
        {"Alpha": people(30, 10), "Beta": people(10, 5), "Gamma": people(9, 3)},
    )
    later = sitting("f-2027-05-01", "2027-05-01", {"Alpha": people(1, 39)}, prefix="L")
    met = dict.fromkeys(now.candidates, True)
    alpha = employer_report("Alpha", now, [later, before], met, SETTINGS)
    assert alpha.administrations == ("f-2026-11-30", "f-2026-05-01")
    assert [r.change for r in alpha.rows] == [0.25, 0.25]  # 30/40 - 20/40, the later one ignored
    beta = employer_report("Beta", now, [before], met, SETTINGS)
    assert [r.change for r in beta.rows] == [None, None]
    assert beta.administrations == ("f-2026-11-30",)
    assert "No change is shown: fewer than 10 candidates of this employer sat f-2026-05-01." in (
        beta.notes
    )
    first = employer_report("Alpha", now, [], met, SETTINGS)
    assert first.notes == ("No earlier administration with candidates of this employer.",)


def test_candidates_without_an_employer_are_one_group_of_their_own() -> None:
    now = Sitting(
        administration="f-2026-11-30",
        date="2026-11-30",
        candidates=tuple(f"C{i}" for i in range(13)),
        employers=("Alpha",) * 11 + (None, ""),
        at_expectation={"law": (True,) * 13},
        titles={"law": "The law"},
    )
    assert employers_of(now) == ["(employer not given)", "Alpha"]
    unknown = employer_report("(employer not given)", now, [], {}, SETTINGS)
    assert unknown.candidates is None
