"""Simulate one administration of each sample form: SIMULATED candidates, SIMULATED data.

    .venv/bin/python sample_results/make_sample.py [--bank item_bank] [--out sample_results]

For each form in the bank (forms/*/manifest.json) this writes, under <out>/<form>/:
  responses.csv.gz           one row per candidate and item, as a platform would send it
                             (item = the delivery id, response = the letters shown)
  candidates-SIMULATED.csv.gz  pseudonymous id, a fictional employer, and fictional equality
                             characteristics (simulated: they describe no one)
  parameters.csv             the generating 2PL parameters: a and b (normal metric, D = 1.7)
                             and the same as slope = 1.7a and intercept = -1.7ab (logistic
                             slope-intercept, as mirt prints them), the planted DIF, the
                             planted platform-score disagreements and the items of the planted
                             weak group, to check analyses against
  planted-weak-SIMULATED.csv the candidates for whom the weak group was planted (the truth a
                             feedback check compares with; never imported)
  qti30/, qti21/             a handful of the same candidates as QTI 3.0 and 2.1
                             assessmentResult documents (examples of those formats)

Model: theta ~ N(0, 1); P(full marks) = 1 / (1 + exp(-1.7 a (theta - b))). A candidate who
does not earn full marks picks a distractor (single answer), swaps one key for a distractor
(multiple response) or gets one statement wrong (true/false statements). Uniform DIF: two
items per form are harder by DIF_SHIFT (logits) for the focal group of DIF_TRAIT. 1% of
responses are omitted. PLANTED_DISAGREEMENTS rows per form carry a wrong platform score.
A planted weak area (a second dimension): for WEAK_SHARE of the candidates, drawn at random
(so spread across employers), every item whose primary standard is in bank.json's feedback
group WEAK_GROUP is harder by WEAK_SHIFT on the theta scale (1.7 a WEAK_SHIFT logits).
Employers: SMALL_EMPLOYERS get exactly the candidates given (fewer than 10: the employer reports
must suppress them); the others share the rest at random.
Seeded: the same bank and seed give the same files.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import string
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from lxml import etree

from itembank import open_bank
from itembank.core.workflow import content_hash
from itembank.forms.manifests import delivery_id

SEED = 20261130
CANDIDATES = 2000
DIF_TRAIT, DIF_FOCAL, DIF_SHIFT = "sex", "female", 0.8
PLANTED_DISAGREEMENTS = 7
QTI_EXAMPLES = 5
OMIT_RATE = 0.01
WEAK_GROUP, WEAK_SHARE, WEAK_SHIFT = "law-and-organisation", 0.15, 2.5
LETTERS = string.ascii_uppercase
EMPLOYERS = [  # fictional local authorities
    "Northmere County Council",
    "Borough of Eastwick",
    "Hallowfield City Council",
    "Wrenbury District Council",
    "Cawthorne Metropolitan Borough",
    "Saltmarsh Unitary Authority",
]
SMALL_EMPLOYERS = {  # fictional; fewer than 10 candidates each, on purpose
    "Isle of Carrow Council": 4,
    "Fellbeck Rural Borough": 7,
}
TRAITS: dict[str, tuple[list[str], list[float]]] = {  # fictional, simulated distributions
    "sex": (["female", "male"], [0.8, 0.2]),
    "ethnic_group": (["asian", "black", "mixed", "white", "other"], [0.08, 0.10, 0.04, 0.75, 0.03]),
    "disability": (["yes", "no"], [0.12, 0.88]),
    "age_band": (["under_30", "30_to_44", "45_plus"], [0.35, 0.40, 0.25]),
}
QTI = {
    "qti30": "http://www.imsglobal.org/xsd/imsqti_result_v3p0",
    "qti21": "http://www.imsglobal.org/xsd/imsqti_result_v2p1",
}


def simulate_form(
    rng: np.random.Generator,
    manifest: Mapping[str, Any],
    items: Mapping[str, Any],
    first: int,
    weak_statements: frozenset[str],
) -> dict[str, Any]:
    """Candidates, their responses (own option ids) and the generating parameters."""
    entries = [e for s in manifest["sections"] for e in s["items"]]
    k = len(entries)
    a = np.clip(rng.lognormal(0.0, 0.3, k), 0.4, 2.5).round(3)
    b = rng.normal(-0.7, 0.9, k).round(3)
    dif_items = sorted(rng.choice(k, 2, replace=False).tolist())
    people = [f"CAND-{first + i:05d}" for i in range(CANDIDATES)]
    traits = {t: rng.choice(v, CANDIDATES, p=p) for t, (v, p) in TRAITS.items()}
    small = [name for name, n in SMALL_EMPLOYERS.items() for _ in range(n)]
    employer = rng.permutation(
        np.concatenate([rng.choice(EMPLOYERS, CANDIDATES - len(small)), np.array(small)])
    )
    theta = rng.normal(0.0, 1.0, CANDIDATES)
    shift = np.zeros((CANDIDATES, k))
    weak = np.sort(rng.choice(CANDIDATES, round(WEAK_SHARE * CANDIDATES), replace=False))
    weak_items = [j for j, e in enumerate(entries) if _primary(items[e["id"]]) in weak_statements]
    shift[np.ix_(weak, weak_items)] = WEAK_SHIFT
    focal = traits[DIF_TRAIT] == DIF_FOCAL
    for j in dif_items:
        shift[focal, j] += DIF_SHIFT
    p = 1.0 / (1.0 + np.exp(-1.7 * a * (theta[:, None] - b - shift)))
    right = rng.random((CANDIDATES, k)) < p
    omit = rng.random((CANDIDATES, k)) < OMIT_RATE
    responses: list[list[Any]] = []
    for i in range(CANDIDATES):
        row = []
        for j, entry in enumerate(entries):
            item = items[entry["id"]]
            row.append(None if omit[i, j] else _respond(rng, item, bool(right[i, j])))
        responses.append(row)
    return {
        "entries": entries,
        "people": people,
        "traits": traits,
        "employer": employer,
        "a": a,
        "b": b,
        "dif_items": dif_items,
        "weak": [people[i] for i in weak],
        "weak_items": weak_items,
        "responses": responses,
    }


def _primary(item: Mapping[str, Any]) -> str | None:
    """The statement of the item's primary standard (the first marked, else the first)."""
    listed = list(item.get("standards") or [])
    marked = [m for m in listed if m.get("primary")] or listed
    return str(marked[0]["statement"]) if marked else None


def _respond(rng: np.random.Generator, item: Mapping[str, Any], right: bool) -> Any:
    """A response in the item's own ids: the key when right, else a plausible wrong one."""
    ids = [str(o["id"]) for o in item["options"]]
    key = item["key"]
    if isinstance(key, Mapping):  # true/false statements: one statement wrong
        answer = {s: bool(v) for s, v in key.items()}
        if not right:
            flip = str(rng.choice(sorted(answer)))
            answer[flip] = not answer[flip]
        return answer
    keys = sorted(str(x) for x in key)
    if right:
        return keys
    wrong = [o for o in ids if o not in keys]
    weights = np.linspace(1.0, 2.0, len(wrong))  # distractors are not equally attractive
    if len(keys) == 1:
        return [str(rng.choice(wrong, p=weights / weights.sum()))]
    chosen = list(keys)
    chosen[int(rng.integers(len(chosen)))] = str(rng.choice(wrong))
    return sorted(chosen)


def shown(response: Any, order: Sequence[str]) -> str:
    """The response in the letters the form showed ("B", "A|C", "A=T|B=F")."""
    letter = {oid: LETTERS[k] for k, oid in enumerate(order)}
    if response is None:
        return ""
    if isinstance(response, Mapping):
        return "|".join(
            f"{letter[s]}={'T' if v else 'F'}"
            for s, v in sorted(response.items(), key=lambda kv: letter[kv[0]])
        )
    return "|".join(sorted(letter[o] for o in response))


def qti_result(
    version: str, candidate: str, form: str, rows: Sequence[tuple[str, Any, float, str]]
) -> bytes:
    """An assessmentResult document: rows of (delivery id, response in own ids, platform
    score, item format)."""
    ns = QTI[version]
    stamp = "2026-11-02T10:00:00Z"
    root = etree.Element(f"{{{ns}}}assessmentResult", nsmap={None: ns})
    etree.SubElement(root, f"{{{ns}}}context", sourcedId=candidate)
    etree.SubElement(root, f"{{{ns}}}testResult", identifier=form, datestamp=stamp)
    for ident, response, score, fmt in rows:
        result = etree.SubElement(
            root, f"{{{ns}}}itemResult", identifier=ident, datestamp=stamp, sessionStatus="final"
        )
        mtf = fmt == "multiple_true_false"
        single = fmt in ("single_best_answer", "true_false")
        var = etree.SubElement(
            result,
            f"{{{ns}}}responseVariable",
            identifier="RESPONSE",
            cardinality="single" if single else "multiple",
            baseType="directedPair" if mtf else "identifier",
        )
        given = etree.SubElement(var, f"{{{ns}}}candidateResponse")
        values = (
            (
                [f"{s} {'TRUE' if v else 'FALSE'}" for s, v in sorted(response.items())]
                if mtf
                else list(response)
            )
            if response is not None
            else []
        )
        for value in values:
            etree.SubElement(given, f"{{{ns}}}value").text = value
        out = etree.SubElement(
            result,
            f"{{{ns}}}outcomeVariable",
            identifier="SCORE",
            cardinality="single",
            baseType="float",
        )
        etree.SubElement(out, f"{{{ns}}}value").text = f"{score:g}"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _gz(text: str) -> bytes:
    return gzip.compress(text.encode("utf-8"), mtime=0)


def write_form(
    out: Path,
    manifest: Mapping[str, Any],
    items: Mapping[str, Any],
    sim: Mapping[str, Any],
    rng: np.random.Generator,
) -> dict[str, int]:
    """Write one form's files; returns the counts a test can check."""
    from itembank.forms.scoring import score

    form = str(manifest["id"])
    folder = out / form
    folder.mkdir(parents=True, exist_ok=True)
    entries = sim["entries"]
    answered = [
        (i, j)
        for i in range(CANDIDATES)
        for j in range(len(entries))
        if sim["responses"][i][j] is not None
    ]
    planted = {
        answered[int(x)] for x in rng.choice(len(answered), PLANTED_DISAGREEMENTS, replace=False)
    }
    lines = io.StringIO()
    writer = csv.writer(lines, lineterminator="\n")
    writer.writerow(["candidate", "form", "item", "response", "score"])
    platform: dict[tuple[int, int], float] = {}
    for i, person in enumerate(sim["people"]):
        for j, entry in enumerate(entries):
            item = items[entry["id"]]
            response = sim["responses"][i][j]
            ours = 0.0 if response is None else float(score(item, response))
            theirs = (float(entry["max_score"]) - ours) if (i, j) in planted else ours
            if (i, j) in planted and theirs == ours:
                theirs = ours + 1.0
            platform[(i, j)] = theirs
            writer.writerow(
                [
                    person,
                    form,
                    delivery_id(entry),
                    shown(response, entry["option_order"]),
                    f"{theirs:g}",
                ]
            )
    (folder / "responses.csv.gz").write_bytes(_gz(lines.getvalue()))
    people = io.StringIO()
    writer = csv.writer(people, lineterminator="\n")
    writer.writerow(["candidate", "employer", *TRAITS])
    for i, person in enumerate(sim["people"]):
        writer.writerow([person, sim["employer"][i], *(sim["traits"][t][i] for t in TRAITS)])
    (folder / "candidates-SIMULATED.csv.gz").write_bytes(_gz(people.getvalue()))
    with (folder / "parameters.csv").open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(
            [
                "position",
                "item",
                "delivery_id",
                "a",
                "b",
                "slope",
                "intercept",
                "dif_trait",
                "dif_focal",
                "dif_shift",
                "planted_disagreements",
                "weak_group",
                "weak_shift",
            ]
        )
        for j, entry in enumerate(entries):
            dif = j in sim["dif_items"]
            writer.writerow(
                [
                    j,
                    entry["id"],
                    delivery_id(entry),
                    sim["a"][j],
                    sim["b"][j],
                    round(1.7 * sim["a"][j], 4),
                    round(-1.7 * sim["a"][j] * sim["b"][j], 4),
                    DIF_TRAIT if dif else "",
                    DIF_FOCAL if dif else "",
                    DIF_SHIFT if dif else 0,
                    sum(1 for (_, jj) in planted if jj == j),
                    WEAK_GROUP if j in sim["weak_items"] else "",
                    WEAK_SHIFT if j in sim["weak_items"] else 0,
                ]
            )
    truth = io.StringIO()
    writer = csv.writer(truth, lineterminator="\n")
    writer.writerow(["candidate", "weak_group", "weak_shift"])
    for person in sim["weak"]:
        writer.writerow([person, WEAK_GROUP, WEAK_SHIFT])
    (folder / "planted-weak-SIMULATED.csv").write_text(truth.getvalue())
    for version in QTI:
        (folder / version).mkdir(exist_ok=True)
        for i in range(QTI_EXAMPLES):
            rows = [
                (delivery_id(e), sim["responses"][i][j], platform[(i, j)], items[e["id"]]["format"])
                for j, e in enumerate(entries)
            ]
            data = qti_result(version, sim["people"][i], form, rows)
            (folder / version / f"{sim['people'][i]}.xml").write_bytes(data)
    return {
        "candidates": CANDIDATES,
        "responses": CANDIDATES * len(entries),
        "omitted": CANDIDATES * len(entries) - len(answered),
        "disagreements": PLANTED_DISAGREEMENTS,
        "weak_candidates": len(sim["weak"]),
        "weak_items": len(sim["weak_items"]),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = Path(__file__).resolve().parent
    parser.add_argument("--bank", default=str(here.parent / "item_bank"))
    parser.add_argument("--out", default=str(here))
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    bank = open_bank(args.bank)
    rng = np.random.default_rng(args.seed)
    groups = bank.settings["results"]["feedback"]["groups"]
    weak_statements = frozenset(next(g for g in groups if g["id"] == WEAK_GROUP)["statements"])
    for n, manifest in enumerate(bank.forms.committed()):
        items = {}
        for entry in (e for s in manifest["sections"] for e in s["items"]):
            record = bank.get(entry["id"])
            assert content_hash("item", record) == entry["content_hash"], entry["id"]
            items[entry["id"]] = record
        sim = simulate_form(rng, manifest, items, 1 + n * CANDIDATES, weak_statements)
        counts = write_form(Path(args.out), manifest, items, sim, rng)
        print(f"{manifest['id']}: {counts}")


if __name__ == "__main__":
    main()
