"""Hofstee and Beuk compromise pass marks against hand computations on small distributions.

The distribution used throughout: 10 candidates on a 10-mark test with totals
2 3 4 5 5 6 6 7 8 9. A candidate passes at or above the pass mark c; the fail rate F(c) is the
share of totals below c:
    c    0  1  2  3   4   5   6   7   8   9   10
    F    0  0  0  10  20  30  50  70  80  90  100   (%)
"""

from __future__ import annotations

import pytest

from itembank.checks.passmarkrules import range_problems
from itembank.standard_setting.compromise import (
    JudgeRange,
    beuk,
    compromise,
    compromise_text,
    curve,
    hofstee,
)

SCORES = [2, 3, 4, 5, 5, 6, 6, 7, 8, 9]


def judge(k_min: float, k_max: float, f_min: float, f_max: float, mark: float, rate: float) -> JudgeRange:
    return JudgeRange("J <j@x.org>", k_min, k_max, f_min, f_max, mark, rate)


# judge 1: pass mark 40-70%, fail rate 10-50%, own mark 60%, expects 80% to pass
# judge 2: pass mark 50-70%, fail rate 20-50%, own mark 50%, expects 70% to pass
TWO = [judge(40, 70, 10, 50, 60, 80), judge(50, 70, 20, 50, 50, 70)]


def test_curve_is_the_share_below_each_whole_mark() -> None:
    c = curve(SCORES, 10)
    assert c.fail == (0.0, 0.0, 0.0, 10.0, 20.0, 30.0, 50.0, 70.0, 80.0, 90.0, 100.0)
    assert c.n == 10 and c.pass_rate(6) == 50.0 and c.percent(6) == 60.0
    assert curve([5.5, 6], 10).fail[6] == 50.0  # 5.5 is below 6; 6 is not
    with pytest.raises(ValueError, match="no scores"):
        curve([], 10)
    with pytest.raises(ValueError, match="from 0 to 10"):
        curve([11], 10)


def test_hofstee_matches_the_hand_computation() -> None:
    # means: k_min (40+50)/2 = 45, k_max 70, f_min (10+20)/2 = 15, f_max 50
    # whole marks in 45%..70% of 10: 5, 6, 7
    # line L(c) = 50 - (50-15) * (10c - 45) / (70 - 45) = 50 - 1.4 (10c - 45)
    #   L(5) = 50 - 1.4 * 5 = 43.0; F(5) = 30 < 43
    #   L(6) = 50 - 1.4 * 15 = 29.0; F(6) = 50 >= 29  -> the Hofstee pass mark is 6, pass rate 50%
    f = hofstee(curve(SCORES, 10), TWO)
    assert (f.pass_mark, f.fail_rate, f.pass_rate) == (6, 50.0, 50.0)
    assert f.inputs == {"k_min": 45.0, "k_max": 70.0, "f_min": 15.0, "f_max": 50.0, "judges": 2}
    assert f.fallback is None and "line 29.0%, observed 50.0%" in f.note


def test_beuk_matches_the_hand_computation() -> None:
    # mean pass mark (60+50)/2 = 55%, mean pass rate (80+70)/2 = 75% -> fail rate 25%
    # SD of pass marks sqrt(((60-55)^2 + (50-55)^2) / 1) = 7.0711; SD of pass rates the same
    # slope -(7.0711 / 7.0711) = -1: line f(c) = 25 - (10c - 55)
    #   c = 4: line 40, F(4) = 20 < 40;  c = 5: line 30, F(5) = 30 >= 30 (a tie counts as reached)
    # -> the Beuk pass mark is 5, pass rate 70%
    f = beuk(curve(SCORES, 10), TWO)
    assert (f.pass_mark, f.pass_rate) == (5, 70.0)
    assert f.inputs["mean_pass_mark"] == 55.0 and f.inputs["mean_pass_rate"] == 75.0
    assert f.inputs["sd_pass_mark"] == pytest.approx(7.0710678) == f.inputs["sd_pass_rate"]


def test_beuk_slope_follows_the_ratio_of_the_sds() -> None:
    # pass marks 70 and 60: mean 65%, SD 7.0711. Mean fail rate 20% in both cases below.
    # pass rates 90 and 70: SD 14.142, slope -2: f(c) = 20 - 2 (10c - 65)
    #   c = 5: line 50 > F 30;  c = 6: line 30 <= F 50  -> 6
    steep = beuk(curve(SCORES, 10), [judge(0, 100, 0, 100, 70, 90), judge(0, 100, 0, 100, 60, 70)])
    assert steep.pass_mark == 6 and steep.inputs["sd_pass_rate"] == pytest.approx(14.1421356)
    # pass rates 82.5 and 77.5: SD 3.5355, slope -0.5: f(c) = 20 - 0.5 (10c - 65)
    #   c = 4: line 32.5 > F 20;  c = 5: line 27.5 <= F 30  -> 5
    flat = beuk(curve(SCORES, 10), [judge(0, 100, 0, 100, 70, 82.5), judge(0, 100, 0, 100, 60, 77.5)])
    assert (flat.pass_mark, flat.pass_rate) == (5, 70.0)


def test_beuk_with_agreed_pass_rates_is_a_horizontal_line() -> None:
    # pass marks 50 and 60 (SD 7.07), pass rates both 80 (SD 0): slope 0, the line is f = 20:
    # the lowest mark whose fail rate reaches 20% is 4 (F(3) = 10, F(4) = 20)
    f = beuk(curve(SCORES, 10), [judge(0, 100, 0, 100, 50, 80), judge(0, 100, 0, 100, 60, 80)])
    assert (f.pass_mark, f.fail_rate) == (4, 20.0)


def test_hofstee_curve_above_the_box_has_no_figure_and_says_why() -> None:
    # k 50..70 (marks 5..7), f 10..20: F(5) = 30 > 20 -> above the box; nearest edge 5
    f = hofstee(curve(SCORES, 10), [judge(50, 70, 10, 20, 60, 85)])
    assert f.pass_mark is None and f.pass_rate is None and f.fallback == 5
    assert f.note.startswith("No intersection: even the lowest acceptable pass mark (5) fails 30.0%")


def test_hofstee_curve_below_the_box_has_no_figure_and_says_why() -> None:
    # k 20..40 (marks 2..4), f 40..60: F(4) = 20 < 40 -> below the box; nearest edge 4
    f = hofstee(curve(SCORES, 10), [judge(20, 40, 40, 60, 30, 50)])
    assert f.pass_mark is None and f.fallback == 4
    assert "fails only 20.0%" in f.note and "below the box" in f.note


def test_hofstee_range_without_a_whole_mark() -> None:
    f = hofstee(curve(SCORES, 10), [judge(61, 69, 10, 50, 65, 70)])  # 6.1 to 6.9 marks
    assert f.pass_mark is None and f.fallback is None and "no whole mark" in f.note


def test_identical_judges_sd_zero() -> None:
    same = [judge(50, 70, 20, 40, 60, 70)] * 4
    # Beuk: SD of pass marks 0 -> vertical line at 60% = 6 marks (pass rate 50%)
    b = beuk(curve(SCORES, 10), same)
    assert (b.pass_mark, b.pass_rate) == (6, 50.0) and "SD of the judges' pass marks is 0" in b.note
    # 62% of 10 marks is 6.2: a pass mark is a whole mark at or above it, so 7 (pass rate 30%)
    up = beuk(curve(SCORES, 10), [judge(50, 70, 20, 40, 62, 70)] * 2)
    assert (up.pass_mark, up.pass_rate) == (7, 30.0)
    # Hofstee is unaffected by agreement: marks 5..7, L(c) = 40 - 20 (10c - 50) / 20
    #   L(5) = 40, F(5) = 30 < 40;  L(6) = 30, F(6) = 50 >= 30 -> 6
    assert hofstee(curve(SCORES, 10), same).pass_mark == 6
    # a box of one pass mark (60% to 60%): the line is the fail-rate range; F(6) = 50 > 40 -> above
    point = hofstee(curve(SCORES, 10), [judge(60, 60, 20, 40, 60, 70)])
    assert point.pass_mark is None and point.fallback == 6


def test_all_candidates_with_the_same_score() -> None:
    # everyone scores 6: F(c) = 0 for c <= 6 and 100 from 7
    c = curve([6] * 5, 10)
    # Hofstee with TWO: L(5) = 43 > 0, L(6) = 29 > 0, L(7) = 50 - 1.4 * 25 = 15 <= 100 -> 7
    h = hofstee(c, TWO)
    assert (h.pass_mark, h.pass_rate) == (7, 0.0)
    # Beuk with TWO: line f(c) = 25 - (10c - 55): at 6 it is 20 > 0; at 7 it is 10 <= 100 -> 7
    assert beuk(c, TWO).pass_mark == 7


def test_ties_at_the_line() -> None:
    # Hofstee line through exactly F(5) = 30: k 50..70, f 10..30, L(5) = 30 -> 5 (reached)
    f = hofstee(curve(SCORES, 10), [judge(50, 70, 10, 30, 50, 70)])
    assert f.pass_mark == 5


def test_compromise_side_by_side_and_text() -> None:
    r = compromise(SCORES, 10, 6, TWO, "Modified Angoff.")
    assert [(f.method, f.pass_mark, f.pass_rate) for f in r.figures] == [
        ("angoff", 6, 50.0),
        ("hofstee", 6, 50.0),
        ("beuk", 5, 70.0),
    ]
    assert r.acceptable == (5, 7) and r.judges == 2
    text = compromise_text(r)
    assert "beuk             5    50.0%     70.0%" in text
    assert "The judges' acceptable pass marks: 5 to 7 marks." in text
    none = compromise(SCORES, 10, None, [])
    assert [f.pass_mark for f in none.figures] == [None, None, None] and none.acceptable is None
    assert "angoff        none" in compromise_text(none)


def test_range_problems_name_each_field() -> None:
    good = {"pass_mark_min": 50, "pass_mark_max": 70, "fail_rate_min": 10, "fail_rate_max": 30,
            "pass_mark": 60, "pass_rate": 80}
    assert range_problems(good) == []
    assert range_problems({**good, "pass_mark_min": 80, "pass_mark": 75}) == [
        ("pass_mark_min", "The lowest acceptable pass mark (80%) is above the highest (70%): swap them."),
        ("pass_mark", "The judge's own pass mark (75%) is outside their acceptable range (80% to 70%): change one of them."),
    ]
    assert range_problems({**good, "fail_rate_max": 120}) == [
        ("fail_rate_max", "The fail rate max is 120: it must be from 0 to 100 (a percentage).")
    ]
    assert range_problems({**good, "pass_rate": "lots"}) == [
        ("pass_rate", "Give the pass rate as a number from 0 to 100 (a percentage).")
    ]
    assert [n for n, _ in range_problems({**good, "pass_mark": float("nan"), "pass_rate": True})] == [
        "pass_mark", "pass_rate"]
