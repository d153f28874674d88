"""The technical report of one administration: a self-contained HTML page (printed to PDF by
the papers' chromium printer) from ``FormResults.to_dict()``.

Why from the dictionary and nothing else: the report can then hold only what the analysis
already reduced to aggregates -- no candidate id, no one person's characteristic -- and a DIF
group smaller than the bank's minimum is shown only as "fewer than N", so a reader cannot work
out who the few members of a small group are. Charts are inline SVG (no plotting library, no
network). Pure: a mapping in, a string out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10.5pt; margin: 1.5cm; }
h1 { font-size: 17pt; margin-bottom: 0.2em; } h2 { font-size: 13pt; margin-top: 1.4em; }
table { border-collapse: collapse; margin: 0.5em 0; } td:first-child { white-space: nowrap; }
th, td { border: 1px solid #999; padding: 2px 6px; text-align: right; vertical-align: top; }
th { background: #eee; } td.l, th.l { text-align: left; }
tr.flag td { background: #fff3cd; } .note { color: #444; font-size: 9.5pt; }
@page { size: A4; margin: 1.2cm; }
"""


def _f(value: object, places: int = 3) -> str:
    if value is None or isinstance(value, str):
        return "&ndash;" if value is None else escape(value)
    return f"{float(value):.{places}f}"  # type: ignore[arg-type]


def _e(value: object) -> str:
    return escape(str(value))


def _size(count: object, minimum: int) -> str:
    """A group size as the report may print it: exact at or above the minimum group size."""
    if isinstance(count, int) and count >= minimum:
        return str(count)
    return f"fewer than {minimum}"


def _table(
    head: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1, marked: Sequence[bool] = ()
) -> str:
    """An HTML table; the first `left` columns are text (left-aligned). Cells are HTML."""
    out = ["<table><tr>"]
    out += [f'<th class="{"l" if i < left else ""}">{_e(h)}</th>' for i, h in enumerate(head)]
    out.append("</tr>")
    for n, row in enumerate(rows):
        flag = ' class="flag"' if n < len(marked) and marked[n] else ""
        cells = "".join(
            f'<td class="{"l" if i < left else ""}">{c}</td>' for i, c in enumerate(row)
        )
        out.append(f"<tr{flag}>{cells}</tr>")
    out.append("</table>")
    return "".join(out)


def _information_svg(items: Sequence[Mapping[str, Any]]) -> str:
    """The test information function of the calibrated items (and the SEM it implies), -4..4."""
    if not items:
        return ""
    thetas = [-4 + 8 * i / 160 for i in range(161)]
    info = []
    for t in thetas:
        total = 0.0
        for p in items:
            a, d = float(p["a"]), float(p["d"])
            prob = 1 / (1 + math.exp(-(a * t + d)))
            total += a * a * prob * (1 - prob)
        info.append(total)
    top = max(info) or 1.0
    w, h, pad = 480, 200, 30
    points = " ".join(
        f"{pad + (t + 4) / 8 * (w - 2 * pad):.1f},{h - pad - v / top * (h - 2 * pad):.1f}"
        for t, v in zip(thetas, info, strict=True)
    )
    ticks = "".join(
        f'<text x="{pad + (t + 4) / 8 * (w - 2 * pad):.0f}" y="{h - 10}" font-size="10" '
        f'text-anchor="middle">{t}</text>'
        for t in range(-4, 5, 2)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
        f'aria-label="Test information by ability">'
        f'<rect x="{pad}" y="{pad}" width="{w - 2 * pad}" height="{h - 2 * pad}" fill="none" '
        f'stroke="#999"/><polyline points="{points}" fill="none" stroke="#1f4e79" '
        f'stroke-width="2"/>{ticks}<text x="{pad}" y="{pad - 8}" font-size="10">information '
        f"(peak {top:.2f}, SEM there {1 / math.sqrt(top):.2f})</text>"
        f'<text x="{w - pad}" y="{h - 10}" font-size="10" text-anchor="end">ability</text></svg>'
    )


def _facility_svg(items: Sequence[Mapping[str, Any]], flagged: set[str]) -> str:
    """One bar per item: facility, flagged items in orange."""
    w, h, pad = 480, 160, 24
    step = (w - 2 * pad) / max(len(items), 1)
    tall = [float(it["facility"]) * (h - 2 * pad) for it in items]
    bars = "".join(
        f'<rect x="{pad + i * step + 1:.1f}" y="{h - pad - tall[i]:.1f}"'
        f' width="{max(step - 2, 1):.1f}" height="{tall[i]:.1f}" '
        f'fill="{"#e07b00" if it["item"] in flagged else "#1f4e79"}"><title>{_e(it["item"])}: '
        f"{float(it['facility']):.2f}</title></rect>"
        for i, it in enumerate(items)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
        f'aria-label="Facility by item"><line x1="{pad}" y1="{h - pad}" x2="{w - pad}" '
        f'y2="{h - pad}" stroke="#999"/>{bars}<text x="{pad}" y="{pad - 8}" font-size="10">'
        f"facility by item in form order (orange: flagged)</text></svg>"
    )


def _reliability(r: Mapping[str, Any]) -> list[str]:
    t = r["analysis"]["test"]
    ci = t["alpha_ci95"]
    rows = [
        ("Candidates", str(t["n"])),
        ("Items (marks)", f"{t['k']} ({t['max_total']:g})"),
        ("Mean total (SD, n - 1)", f"{_f(t['mean'], 2)} ({_f(t['sd'], 2)})"),
        ("Coefficient alpha (KR-20)", _f(t["alpha"])),
        ("Feldt 95% interval", "&ndash;" if ci is None else f"{_f(ci[0])} to {_f(ci[1])}"),
        ("Standard error of measurement", _f(t["sem"], 2)),
    ]
    out = ["<h2>Reliability</h2>", _table(["Figure", "Value"], [list(x) for x in rows])]
    out.append("<h2>The pass mark: decision consistency and CSEM at the cut</h2>")
    if r["pass_mark"] is None:
        out.append("<p>No pass mark is known, so neither is estimated.</p>")
    else:
        dc = t["decision_consistency"]
        rows2 = [
            ("Pass mark (raw marks)", f"{r['pass_mark']:g}"),
            ("Where it comes from", _e(r["pass_mark_source"])),
            ("Pass rate", _f(t["pass_rate"])),
            ("Conditional SEM at the cut", f"{_f(t['csem_at_pass'], 2)} ({_e(t['csem_method'])})"),
        ]
        if dc:
            rows2 += [
                ("Decision consistency (agreement)", _f(dc["agreement"])),
                ("Kappa", _f(dc["kappa"])),
                ("Method", _e(dc["method"])),
            ]
        out.append(_table(["Figure", "Value"], [list(x) for x in rows2]))
    out += [f'<p class="note">{_e(n)}</p>' for n in t["notes"]]
    return out


def _items(r: Mapping[str, Any]) -> list[str]:
    params = {p["item"]: p for p in (r["calibration"] or {}).get("items", [])}
    worst: dict[str, str] = {}
    for f in r["dif_findings"]:
        worst[f["item"]] = max(worst.get(f["item"], "A"), f["class"])
    codes: dict[str, list[str]] = {}
    for f in r["analysis"]["flags"]:
        codes.setdefault(f["item"], []).append(f["code"])
    flagged = set(r["flagged_items"])
    rows, marked = [], []
    for i in r["analysis"]["items"]:
        p = params.get(i["item"], {})
        rows.append(
            [
                _e(i["item"]),
                _f(i["facility"]),
                _f(i["item_rest_r"]),
                _f(i["upper_lower"]),
                _f(i["omit_rate"]),
                _f(i["alpha_if_deleted"]),
                _f(p.get("a"), 2),
                _f(p.get("b"), 2),
                worst.get(i["item"], "A" if r["dif"]["comparisons"] else "&ndash;"),
                _e(", ".join(codes.get(i["item"], [])) or "-"),
            ]
        )
        marked.append(i["item"] in flagged)
    head = ["Item", "Facility", "Item-rest r", "Upper-lower D", "Omit rate", "Alpha if deleted",
            "a", "b", "DIF", "Flags"]  # fmt: skip
    rules = r["analysis"]["flag_rules"]
    return [
        "<h2>Items</h2>",
        _facility_svg(r["analysis"]["items"], flagged),
        _table(head, rows, marked=marked),
        f'<p class="note">Flag rules (bank.json results.flags): facility below '
        f"{rules['facility_below']:g} or above {rules['facility_above']:g}; item-rest r below "
        f"{rules['item_rest_below']:g}; omit rate above {rules['omit_rate_above']:g}; a "
        f"distractor chosen more by the high third than the low third (margin "
        f"{rules['distractor_margin']:g}). DIF: the worst ETS class over the comparisons.</p>",
    ]


def _flagged(r: Mapping[str, Any], done: Mapping[str, Any] | None) -> list[str]:
    out = ["<h2>Flagged items and what was done</h2>"]
    if not r["flagged_items"]:
        return [*out, "<p>No item is flagged and none shows class C DIF.</p>"]
    reasons: dict[str, list[str]] = {}
    for f in r["analysis"]["flags"]:
        reasons.setdefault(f["item"], []).append(f["reason"])
    for f in r["dif_findings"]:
        if f["class"] == "C":
            reasons.setdefault(f["item"], []).append(
                f"{f['characteristic']}: ETS class C DIF ({f['focal']} against {f['reference']}, "
                f"delta_MH {_f(f['delta_mh'], 2)}), favours {f['favoured'] or 'neither'}"
            )
    out.append("<ul>")
    for item in r["flagged_items"]:
        out.append(
            f"<li><b>{_e(item)}</b>: " + "; ".join(_e(x) for x in reasons.get(item, [])) + "</li>"
        )
    out.append("</ul>")
    if done:
        out.append(
            f"<p>Done: the statistics of this administration were committed to the bank in "
            f"{_e(str(done['commit'])[:12])} by {_e(done['analysed_by'])} on "
            f"{_e(str(done['analysed_at'])[:10])}. Each flagged approved item is back in its "
            "panel's review queue with these reasons; it stays deliverable until the panel "
            "re-approves it, asks for changes or rejects it.</p>"
        )
    else:
        out.append(
            "<p>Not yet done: the statistics have not been committed. <code>itembank results "
            f"analyse {_e(r['form'])} --write</code> commits them, and puts each flagged "
            "approved item back in its panel's review queue with these reasons.</p>"
        )
    return out


def _dif(r: Mapping[str, Any]) -> list[str]:
    d = r["dif"]
    low = int(d["min_group_size"])
    out = [
        "<h2>DIF log</h2>",
        f"<p>Mantel-Haenszel (continuity-corrected chi-square, delta_MH, ETS classes A/B/C by "
        f"effect size and significance, Zwick 2012) and logistic regression (likelihood ratio, "
        f"Nagelkerke delta R&sup2;, Jodoin-Gierl classes), matched on the total score. A group "
        f"is compared only with at least {low} candidates in it and in the reference group.</p>",
    ]
    sizes = [
        [_e(c), _e(g), _size(n, low)]
        for c, groups in d["group_sizes"].items()
        for g, n in groups.items()
    ] + [[_e(c), "not declared", _size(n, low)] for c, n in d["unknown"].items() if n]
    out.append(_table(["Characteristic", "Group", "Candidates"], sizes, left=2))
    rows = []
    for c in d["comparisons"]:
        n_ref, n_foc = c["n_reference"], c["n_focal"]
        if c["skipped"]:
            small = [
                g for g, n in ((c["reference"], n_ref), (c["focal"], n_foc))
                if g and not (isinstance(n, int) and n >= low)
            ]  # fmt: skip
            why = (
                f"{' and '.join(small)}: fewer than {low} candidates "
                "(bank.json results.dif.min_group_size)"
                if small
                else c["skipped"]
            )
            rows.append([_e(c["characteristic"]), _e(c["focal"] or "-"), _e(c["reference"] or "-"),
                         "skipped: " + _e(why)])  # fmt: skip
            continue
        found = [
            f for f in r["dif_findings"]
            if (f["characteristic"], f["focal"]) == (c["characteristic"], c["focal"])
        ]  # fmt: skip
        lr = [x for x in c["logistic"] if x["jodoin_gierl_class"] in ("B", "C")]
        said = (
            "; ".join(
                f"{_e(f['item'])} class {f['class']} (delta_MH {_f(f['delta_mh'], 2)}, favours "
                f"{_e(f['favoured'] or 'neither')})"
                for f in found
            )
            or "every item class A"
        )
        if lr:
            said += "; logistic B/C: " + ", ".join(
                f"{_e(x['item'])} {x['jodoin_gierl_class']}" for x in lr
            )
        rows.append([_e(c["characteristic"]), _e(c["focal"]), _e(c["reference"]), said])
    out.append(_table(["Characteristic", "Focal", "Reference", "Result"], rows, left=4))
    return out


def _irt(r: Mapping[str, Any]) -> list[str]:
    cal = r["calibration"]
    out = ["<h2>IRT calibration</h2>"]
    if cal is None:
        return [*out, "<p>No calibration (see the notes).</p>"]
    out.append(
        f"<p>{_e(cal['model'])} model, {_e(cal['method'])}: {len(cal['items'])} item(s) "
        f"calibrated on {cal['n_candidates']} candidates, "
        f"{'converged' if cal['converged'] else 'not converged'}; log-likelihood "
        f"{cal['log_likelihood']}, AIC {cal['aic']}, BIC {cal['bic']}. Slope-intercept form "
        "(logit = a&theta; + d), b = &minus;d/a, ability N(0, 1).</p>"
    )
    out.append(_information_svg(cal["items"]))
    rows = [
        [_e(p["item"]), _f(p["a"]), _f(p["se_a"]), _f(p["b"]), _f(p["se_b"]), _f(p["d"])]
        for p in cal["items"]
    ]
    out.append(_table(["Item", "a", "SE(a)", "b", "SE(b)", "d"], rows))
    out += [f"<p>Excluded {_e(e['item'])}: {_e(e['reason'])}</p>" for e in cal["excluded"]]
    out += [f'<p class="note">{_e(n)}</p>' for n in cal["notes"]]
    return out


def technical_report(results: Mapping[str, Any], done: Mapping[str, Any] | None = None) -> str:
    """The technical report as one HTML document. `results` is FormResults.to_dict(); `done`
    (commit, analysed_by, analysed_at) says the statistics were committed, None that not."""
    r = results
    title = f"Technical report: {r['form']}, administration {r['administration']}"
    body = [
        f"<h1>{_e(title)}</h1>",
        '<p class="note">Aggregates only: no candidate is named, and a group smaller than the '
        "minimum group size is shown only as such.</p>",
        *_reliability(r),
        *_items(r),
        *_flagged(r, done),
        *_dif(r),
        *_irt(r),
    ]
    if r["notes"]:
        body += ["<h2>Notes</h2>", "<ul>", *(f"<li>{_e(n)}</li>" for n in r["notes"]), "</ul>"]
    return (
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


__all__ = ["technical_report"]
