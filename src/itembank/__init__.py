"""itembank: a git-backed item bank for high-stakes professional assessments."""

from .errors import (
    BankNotFoundError,
    ConflictError,
    IdentityError,
    InvalidIdError,
    ItembankError,
    UnknownIdError,
    ValidationFailedError,
    WorkflowError,
)
from .findings import Finding, Report
from .service import Bank, open_bank

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
