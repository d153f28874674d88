"""Who is making a change (an explicit 'Name <email>', the JupyterHub user, or git config), and
who a sign-in name or a recorded person is: shared by every room that records people."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from datetime import UTC, datetime

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
    explicit: str | None = None, git_name: str | None = None, git_email: str | None = None
) -> str:
    """The person to record: explicit, else JUPYTERHUB_USER, else git config's user."""
    if explicit:
        return check_person(explicit)
    hub_user = os.environ.get("JUPYTERHUB_USER", "").strip()
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


def same_person(a: str, b: str) -> bool:
    """Same email (case-insensitive), or the same 'Name <email>' string."""

    def email(person: str) -> str:
        return person.rsplit("<", 1)[-1].rstrip(">").strip().lower()

    return a.strip().lower() == b.strip().lower() or email(a) == email(b)


__all__ = ["check_person", "is_id", "is_person", "resolve_identity"]
