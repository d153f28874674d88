"""Who is making a change (an explicit 'Name <email>', the JupyterHub user, or git config), and
who a sign-in name or a recorded person is: shared by every room that records people."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from itembank.core.errors import IdentityError
from itembank.core.ids import is_id, slugify
from itembank.core.schemas import common_def


def is_person(value: object) -> bool:
    """True for a well-formed 'Name <email>'."""
    return (
        isinstance(value, str) and re.fullmatch(common_def("person")["pattern"], value) is not None
    )


def check_person(value: object) -> str:
    if is_person(value):
        return str(value).strip()
    raise IdentityError(
        f"{value!r} is not a usable identity: give it as 'Full Name <email@example.org>'."
    )


def resolve_identity(
    explicit: str | None = None,
    git_name: str | None = None,
    git_email: str | None = None,
    people: Sequence[str] | None = None,
) -> str:
    """The person to record: explicit, else JUPYTERHUB_USER, else git config's user.

    With `people` (bank.json lists its writers, see bank_people), a hub user is always the
    bank.json person they sign in as: refused when on neither list, and no explicit name may
    record a change as somebody else (a browser can send any value)."""
    hub_user = os.environ.get("JUPYTERHUB_USER", "").strip()
    if hub_user and people is not None:
        person = hub_person(people, hub_user)
        if explicit and not same_person(check_person(explicit), person):
            raise IdentityError(
                f"You are signed in to the hub as {person}: a change cannot be recorded as "
                f"{explicit.strip()}. Sign in as that person instead."
            )
        return person
    if explicit:
        return check_person(explicit)
    if hub_user:
        if is_person(hub_user):
            return hub_user
        email = hub_user if "@" in hub_user else f"{slugify(hub_user)}@jupyterhub.invalid"
        name = hub_user.split("@")[0] if "@" in hub_user else hub_user
        return check_person(f"{name} <{email}>")
    if git_name and git_email:
        return check_person(f"{git_name} <{git_email}>")
    raise IdentityError(
        "Nobody to record this change against: pass author='Name <email>', sign in through "
        "JupyterHub, or set git config user.name and user.email."
    )


def review_id(reviewer: str, when: datetime) -> str:
    """UTC time stamp and the reviewer's name as a slug: 20261123T094500Z-helen-marsh."""
    name = reviewer.split("<")[0].strip()
    return f"{when.astimezone(UTC):%Y%m%dT%H%M%SZ}-{slugify(name)}"


def timestamp(when: datetime) -> str:
    return f"{when.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


def member_for_login(members: Sequence[str], login: str) -> str | None:
    """The panel member a sign-in name stands for: the full 'Name <email>', the email, the
    email's local part, or the name as a slug (JupyterHub user names are often one of these)."""
    wanted = login.strip().lower()
    if not wanted:
        return None
    for member in members:
        name, _, rest = member.partition("<")
        email = rest.rstrip(">").strip().lower()
        if wanted in (member.lower(), email, email.split("@")[0], slugify(name)):
            return member
    return None


def bank_people(settings: Mapping[str, Any]) -> list[str] | None:
    """Everyone bank.json names (its writers, then every panel's members), or None when it
    lists no writers (an older bank: hub names are then used as they come)."""
    writers = settings.get("writers")
    if not isinstance(writers, list):
        return None
    members = [m for p in settings.get("panels", []) for m in p.get("members", [])]
    return [str(p) for p in [*writers, *members]]


def hub_person(people: Sequence[str], login: str) -> str:
    """The bank.json person a hub user name stands for (member_for_login), or IdentityError:
    never a guess, never a default identity."""
    person = member_for_login(people, login)
    if person is None:
        raise IdentityError(
            f"You signed in to the hub as {login.strip()!r}, who is neither a writer nor a "
            "panel member in bank.json. Ask the bank's maintainers to add you."
        )
    return person


def hub_role(settings: Mapping[str, Any], login: str) -> tuple[str, str]:
    """What a hub user gets ("writer": JupyterLab; "panel": the panel apps only) and who they
    are, from bank.json's writers and panels. IdentityError for anyone on neither list."""
    writers = [str(w) for w in settings.get("writers", []) or []]
    members = [str(m) for p in settings.get("panels", []) for m in p.get("members", [])]
    writer = member_for_login(writers, login)
    if writer is not None:
        return "writer", writer
    return "panel", hub_person(members, login)


def same_person(a: str, b: str) -> bool:
    """Same email (case-insensitive), or the same 'Name <email>' string."""

    def email(person: str) -> str:
        return person.rsplit("<", 1)[-1].rstrip(">").strip().lower()

    return a.strip().lower() == b.strip().lower() or email(a) == email(b)


__all__ = ["check_person", "is_id", "is_person", "resolve_identity"]
