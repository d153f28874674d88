"""Checks of item statistics records (statistics/<administration>/<ITEM-ID>.json): the record's
own consistency, the facts the bank-wide rules need, and the bank-wide rule that the figures
belong to something real -- an item of this bank, delivered on a committed form, in exactly the
version (content hash) that form carried. Figures that cannot be tied to an item version would
mislead assembly and the panels, so a record that cannot be tied is an error."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from itembank.checks.bankindex import BankIndex
from itembank.core.errors import InvalidIdError
from itembank.core.findings import Finding, error, pointer
from itembank.core.layout import locate

Facts = dict[str, Any]


def statistics_rules(path: str, record: dict[str, Any]) -> Iterator[Finding]:
    """The item matches the file name and the delivery identifier; option proportions have one
    value per score group; a DIF comparison compares two different groups."""
    try:
        location = locate(path)
    except InvalidIdError:
        location = None
    item = record["item"]
    if location is not None and location.id and item != location.id:
        yield error(
            path,
            "/item",
            "id-mismatch",
            f"The item {item!r} differs from the file name {location.id!r}. Name the file "
            f"{item}.json, or set item to {location.id!r}.",
        )
    if not str(record["delivery_id"]).startswith(f"{item}-"):
        yield error(
            path,
            "/delivery_id",
            "delivery-id-mismatch",
            f"The delivery identifier {record['delivery_id']!r} is not one of {item}'s (it "
            f"must start with {item}-). Copy it from the form's manifest or the results import.",
        )
    options = record.get("options")
    if options:
        groups = len(options["groups"])
        for option, values in sorted(options["proportions"].items()):
            if len(values) != groups:
                yield error(
                    path,
                    pointer("options", "proportions", option),
                    "group-count",
                    f"Option {option} has {len(values)} proportions but there are {groups} "
                    "score groups. Give one proportion per group.",
                )
    for index, entry in enumerate(record["dif"]):
        if entry["reference"] == entry["focal"]:
            yield error(
                path,
                pointer("dif", index, "focal"),
                "dif-same-group",
                f"The focal group is the reference group ({entry['focal']!r}). Name two "
                "different groups.",
            )


def statistics_facts(record: dict[str, Any]) -> Facts:
    """What the bank-wide rules, the review queue and assembly need of a statistics record."""
    return {
        "administration": record["administration"],
        "form": record["form"],
        "item": record["item"],
        "hash": record["content_hash"],
        "analysed_at": record["analysed_at"],
        "n": record["n"],
        "facility": record["facility"],
        "flags": [[f["code"], f["reason"]] for f in record["flags"]],
    }


def statistics_links(index: BankIndex) -> Iterator[Finding]:
    """The item exists, the form exists and carried the item, and the content hash is the
    version that form delivered (a version of the item, checked when the form was verified)."""
    items = index.ids("item")
    forms = index.ids("form")
    for path, f in index.valid_of("statistics"):
        item, form = f["item"], f["form"]
        if item not in items:
            yield error(
                path,
                "/item",
                "unknown-item",
                f"{item} is not an item of this bank, so its statistics describe nothing here. "
                "Correct the item id or remove the record.",
            )
            continue  # whether the form carried it says nothing more
        if form not in forms:
            yield error(
                path,
                "/form",
                "unknown-form",
                f"The form {form!r} does not exist (forms/{form}/manifest.json). Statistics "
                "are of items on a committed form: correct the form id.",
            )
            continue
        manifest = index.facts[forms[form]]
        if not manifest["valid"]:
            continue  # the manifest's own findings say why
        delivered = dict(manifest.get("hashes", []))
        if item not in delivered:
            yield error(
                path,
                "/form",
                "not-on-form",
                f"{item} is not on the form {form}. Correct the item or the form.",
            )
        elif f["hash"] != delivered[item]:
            yield error(
                path,
                "/content_hash",
                "hash-not-delivered",
                f"The content hash is not the version of {item} that the form {form} delivered "
                f"({delivered[item][:15]}...). Statistics belong to the version candidates saw: "
                "copy the hash from the form's manifest.",
            )


__all__ = ["statistics_facts", "statistics_links", "statistics_rules"]
