"""Form assembly benchmark: 3, 10 and 20 parallel 30-item forms from synthetic pools of 1,000
and 5,000 approved items (10 standards, 4 formats, case sets of 8, enemy pairs), by the MILP
(itembank.forms.assembly) and by a naive random-draw-and-reject baseline on the same blueprint.

    .venv/bin/python benchmarks/assembly.py [--quick]

Prints a Markdown table (for benchmarks/README.md) and writes benchmarks/results/assembly.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from itembank.forms.assembly import assemble
from itembank.forms.pool import AssemblyError, build_pool, counted_standards

FORMATS = ["single_best_answer"] * 10 + ["multiple_response"] * 5 + ["true_false"] * 3 + ["multiple_true_false"] * 2
FW = "synthetic-framework"
STATEMENTS = [f"SY-{k:02d}" for k in range(1, 11)]

BLUEPRINT: dict[str, Any] = {
    "id": "synthetic-30",
    "role": "practitioner",
    "time_minutes": 60,
    "sections": [
        {"id": "general", "title": "General", "section": "general", "items": 22},
        {"id": "applied", "title": "Applied", "section": "applied", "items": 8, "stimuli": 1},
    ],
    "standards": [{"framework": FW, "statement": s, "min": 2, "max": 5} for s in STATEMENTS],
    "formats": [
        {"format": "single_best_answer", "min": 12},
        {"format": "multiple_response", "min": 5},
        {"format": "true_false", "min": 2, "max": 6},
    ],
    "difficulty": {"source": "writer", "target": 0.68, "tolerance": 0.02},
    "exposure_cap": 2,
    "max_overlap": 5,
    "max_shared_cases": 0,
}


def synthetic_pool(n: int, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """n approved items: 80% general, 20% applied in cases of 8; 5% of general items in enemy
    pairs; writer difficulty ~ N(0.68, 0.12) clipped to 0.2-0.95."""
    rng = random.Random(seed)
    items: list[dict[str, Any]] = []
    stimuli: list[dict[str, Any]] = []
    n_applied = (n // 5) // 8 * 8
    for k in range(n):
        applied = k >= n - n_applied
        items.append(
            {
                "id": f"SY-{k + 1:05d}",
                "status": "approved",
                "roles": ["practitioner"],
                "section": "applied" if applied else "general",
                "format": rng.choice(FORMATS[:15] if applied else FORMATS),
                "standards": [{"framework": FW, "statement": rng.choice(STATEMENTS), "primary": True}],
                "difficulty_estimate": min(0.95, max(0.2, rng.gauss(0.68, 0.12))),
                "enemies": [],
            }
        )
    general = [i for i in items if i["section"] == "general"]
    rng.shuffle(general)
    for a, b in itertools.islice(zip(general[::2], general[1::2], strict=False), len(general) // 40):
        a["enemies"].append(b["id"])
        b["enemies"].append(a["id"])
    applied_items = [i for i in items if i["section"] == "applied"]
    for c in range(0, len(applied_items), 8):
        case_id = f"SC-{c // 8 + 1:04d}"
        members = applied_items[c : c + 8]
        for m in members:
            m["stimulus"] = case_id
        stimuli.append({"id": case_id, "status": "approved", "roles": ["practitioner"], "items": [m["id"] for m in members]})
    return items, stimuli


def form_ok(blueprint: dict[str, Any], ids: list[str], by_id: dict[str, dict[str, Any]]) -> bool:
    """Every per-form constraint of the blueprint."""
    counts = Counter(s for i in ids for s in counted_standards(by_id[i]["standards"]))
    for b in blueprint["standards"]:
        if not b["min"] <= counts[(b["framework"], b["statement"])] <= b.get("max", 99):
            return False
    formats = Counter(by_id[i]["format"] for i in ids)
    for b in blueprint["formats"]:
        if not b["min"] <= formats[b["format"]] <= b.get("max", 99):
            return False
    chosen = set(ids)
    if any(set(by_id[i]["enemies"]) & chosen for i in ids):
        return False
    d = blueprint["difficulty"]
    mean = sum(by_id[i]["difficulty_estimate"] for i in ids) / len(ids)
    return abs(mean - d["target"]) <= d["tolerance"]


def naive(blueprint: dict[str, Any], items: list[dict[str, Any]], stimuli: list[dict[str, Any]], n_forms: int, seed: int, budget_s: float) -> dict[str, Any]:
    """Draw a random case and random general items; keep the form only if it meets every
    constraint, including overlap and exposure with the forms kept so far."""
    rng = random.Random(seed)
    by_id = {i["id"]: i for i in items}
    general = [i["id"] for i in items if i["section"] == "general"]
    cases = [s["items"] for s in stimuli]
    kept: list[list[str]] = []
    used_cases: set[int] = set()
    exposure: Counter[str] = Counter()
    draws = per_form_ok = 0
    start = time.perf_counter()
    while len(kept) < n_forms and time.perf_counter() - start < budget_s:
        draws += 1
        c = rng.randrange(len(cases))
        ids = rng.sample(general, 22) + cases[c]
        if not form_ok(blueprint, ids, by_id):
            continue
        per_form_ok += 1
        if c in used_cases or any(exposure[i] >= blueprint["exposure_cap"] for i in ids):
            continue
        if any(len(set(ids[:22]) & set(k[:22])) > blueprint["max_overlap"] for k in kept):
            continue
        kept.append(ids)
        used_cases.add(c)
        exposure.update(ids)
    return {
        "seconds": round(time.perf_counter() - start, 3),
        "forms_built": len(kept),
        "complete": len(kept) == n_forms,
        "draws": draws,
        "draws_meeting_per_form_constraints": per_form_ok,
        "share_meeting_per_form_constraints": round(per_form_ok / draws, 5) if draws else 0.0,
    }


def milp(items: list[dict[str, Any]], stimuli: list[dict[str, Any]], n_forms: int, seed: int, limit: float) -> dict[str, Any]:
    start = time.perf_counter()
    pool = build_pool(BLUEPRINT, items, stimuli, {i["id"]: i["difficulty_estimate"] for i in items})
    try:
        result = assemble(BLUEPRINT, pool, n_forms, seed, time_limit=limit)
    except AssemblyError as exc:
        return {"seconds": round(time.perf_counter() - start, 3), "ok": False, "error": str(exc)[:200]}
    by_id = {i["id"]: i for i in items}
    ok = all(form_ok(BLUEPRINT, f.items, by_id) for f in result.forms)
    return {
        "seconds": round(time.perf_counter() - start, 3),
        "ok": ok,
        "status": result.solver["status"],
        "rounds": result.solver["rounds"],
        "difficulty": [round(d, 4) for d in result.difficulty],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 items and 3/10 forms only")
    parser.add_argument("--time-limit", type=float, default=300.0)
    parser.add_argument("--naive-budget", type=float, default=60.0, help="seconds per baseline run")
    args = parser.parse_args()
    sizes = [1000] if args.quick else [1000, 5000]
    counts = [3, 10] if args.quick else [3, 10, 20]
    rows = []
    for size in sizes:
        items, stimuli = synthetic_pool(size, seed=size)
        for n in counts:
            m = milp(items, stimuli, n, seed=1, limit=args.time_limit)
            b = naive(BLUEPRINT, items, stimuli, n, seed=1, budget_s=args.naive_budget)
            rows.append({"pool": size, "forms": n, "milp": m, "naive": b})
            print(f"pool {size}, {n} forms: MILP {m['seconds']}s ok={m['ok']}; naive {b['seconds']}s, {b['forms_built']}/{n} forms, {b['share_meeting_per_form_constraints']:.4%} of draws meet the per-form constraints", flush=True)
    out = Path(__file__).parent / "results" / "assembly.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"machine": platform.platform(), "python": platform.python_version(), "blueprint": BLUEPRINT, "rows": rows}, indent=2) + "\n")
    print("\n| pool | forms | MILP: time to forms within tolerance | naive: time | naive: forms built | naive: draws meeting every per-form constraint |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        m, b = r["milp"], r["naive"]
        print(f"| {r['pool']:,} | {r['forms']} | {m['seconds']:.2f} s{'' if m['ok'] else ' (failed)'} | {b['seconds']:.1f} s | {b['forms_built']}/{r['forms']} | {b['draws_meeting_per_form_constraints']:,} of {b['draws']:,} ({b['share_meeting_per_form_constraints']:.3%}) |")


if __name__ == "__main__":
    main()
