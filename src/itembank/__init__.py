"""itembank: a git-backed item bank for high-stakes professional assessments."""

from itembank.bank import Bank, open_bank
from itembank.core.errors import (
    BankNotFoundError,
    ConflictError,
    IdentityError,
    InvalidIdError,
    ItembankError,
    UnknownIdError,
    ValidationFailedError,
    WorkflowError,
)
from itembank.core.findings import Finding, Report

__all__ = [
    "Bank",
    "BankNotFoundError",
    "ConflictError",
    "Finding",
    "IdentityError",
    "InvalidIdError",
    "ItembankError",
    "Report",
    "UnknownIdError",
    "ValidationFailedError",
    "WorkflowError",
    "open_bank",
]
__version__ = "0.1.0"
