"""Who is making a change: an explicit 'Name <email>', the JupyterHub user, or git config."""

from __future__ import annotations

import os
import re

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


__all__ = ["check_person", "is_id", "is_person", "resolve_identity"]
