"""Data protection: retention, and access and erasure requests (GDPR Art. 15 and 17).

Personal data here is: the reporter's and followers' e-mail addresses, a reporter's name and
phone (from Open311 clients), push subscriptions (device endpoints and keys), and photo
originals (which may carry EXIF). Reports themselves stay, anonymised: their public content
serves the city's duty to fix and document defects.

`scrub` removes the personal data of given rows; `requests` answers access and erasure
requests; `retention` cleans closed reports; `ledger` records each erasure outside the
database and `reapply` repeats them after an older backup was restored.
"""

from backend.services.privacy.ledger import ErasureLedger, LedgerEntry, LedgerError
from backend.services.privacy.reapply import Reapplied, reapply_erasures
from backend.services.privacy.requests import erase, export
from backend.services.privacy.retention import retention_sweep
from backend.services.privacy.scrub import Removed

__all__ = [
    "ErasureLedger",
    "LedgerEntry",
    "LedgerError",
    "Reapplied",
    "Removed",
    "erase",
    "export",
    "reapply_erasures",
    "retention_sweep",
]
