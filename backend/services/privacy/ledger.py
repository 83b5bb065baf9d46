"""The erasure ledger: an append-only file outside the database that records each erasure
request as its time and a keyed hash of the address, so that restoring an older database
backup cannot undo an erasure (`reapply_erasures` repeats them).

One JSON object per line: `at` (ISO time, UTC), `key` (HMAC-SHA256 of the normalised address
under a key derived from MM_SECRET_KEY), `kid` (which secret that was) and `id` (random, also
in the erasure's audit entry). Never the address itself, nor an unkeyed hash of it: a list of
known addresses must not be testable against the file without the secret.
"""

from __future__ import annotations

import fcntl
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path

from backend.errors import ConfigurationError
from backend.models.base import utcnow
from backend.settings import Settings


class LedgerError(ConfigurationError):
    """The erasure ledger cannot be used: a line is no entry, or it belongs elsewhere."""


@dataclass(frozen=True)
class LedgerEntry:
    """One erasure: when, and whose address (as a keyed hash)."""

    at: datetime
    key: str
    id: str


def normalise(email: str) -> str:
    """The form in which addresses are compared: without surrounding space, lower case."""
    return email.strip().lower()


@dataclass(frozen=True)
class ErasureLedger:
    """The ledger file and the secret its hashes are keyed with."""

    path: Path
    secret_key: str = field(repr=False)

    @classmethod
    def from_settings(cls, settings: Settings, path: str | Path | None = None) -> ErasureLedger:
        """The ledger at `path`, else MM_ERASURE_LEDGER, keyed with MM_SECRET_KEY."""
        settings = settings.with_secret()
        return cls(Path(path) if path else settings.erasure_ledger_path, settings.secret_key)

    @cached_property
    def _hmac_key(self) -> bytes:
        return hmac.digest(self.secret_key.encode(), b"erasure-ledger", "sha256")

    @cached_property
    def key_id(self) -> str:
        """Names the secret behind the keys, so a ledger of another secret is told apart."""
        return hmac.digest(self._hmac_key, b"key-id", "sha256").hex()[:16]

    def key(self, email: str) -> str:
        """The keyed hash under which an address is recorded."""
        return hmac.digest(self._hmac_key, normalise(email).encode(), "sha256").hex()

    def append(self, email: str, at: datetime | None = None) -> LedgerEntry:
        """Record an erasure of `email`, durably (fsync'd) before this returns."""
        entry = LedgerEntry(at=at or utcnow(), key=self.key(email), id=secrets.token_hex(16))
        line = json.dumps({"at": entry.at.isoformat(), "key": entry.key, "kid": self.key_id,
                           "id": entry.id}, separators=(",", ":")) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)
            created = True
        except FileExistsError:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND)
            created = False
        try:
            # Exclusive while checking the end and writing: lines of processes appending at
            # once never interleave, and readers (shared lock) never see half a line.
            fcntl.flock(fd, fcntl.LOCK_EX)
            data = line.encode()
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data  # a line cut short by a crash stays alone on its line
            if os.write(fd, data) != len(data):  # one write() at the end (O_APPEND)
                raise OSError(f"{self.path}: the erasure ledger entry was not written whole")
            os.fsync(fd)
        finally:
            os.close(fd)  # releases the lock
        if created:  # the new file's name must be durable too
            dir_fd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        return entry

    def read(self) -> list[LedgerEntry]:
        """Every entry, in file order; none when the file is missing. A line that is no entry
        of this installation's ledger raises `LedgerError` naming it."""
        try:
            with self.path.open("rb") as fh:
                fcntl.flock(fh.fileno(), fcntl.LOCK_SH)
                raw = fh.read()
        except FileNotFoundError:
            return []
        entries = []
        for number, line in enumerate(raw.split(b"\n"), start=1):
            if line.strip():
                entries.append(self._parse(number, line))
        return entries

    def _parse(self, number: int, line: bytes) -> LedgerEntry:
        where = f"The erasure ledger {self.path}, line {number}"
        try:
            item = json.loads(line)
            at = datetime.fromisoformat(item["at"])
            key, kid, entry_id = item["key"], item["kid"], item["id"]
            if at.tzinfo is None or not all(isinstance(v, str) for v in (key, kid, entry_id)):
                raise ValueError("wrong types")
            bytes.fromhex(key)
            if len(key) != 64:
                raise ValueError("not a SHA-256")
        except (ValueError, KeyError, TypeError) as exc:
            raise LedgerError(
                f"{where} is not an erasure entry (a JSON object with at, key, kid, id); "
                "nothing was changed. A line cut short by a crash may be removed; then repeat "
                "the erasure requested at that time.", {"line": number}) from exc
        if kid != self.key_id:
            raise LedgerError(
                f"{where} was written with another MM_SECRET_KEY; nothing was changed. Run "
                "with the secret key of that time.", {"line": number})
        return LedgerEntry(at=at, key=key, id=entry_id)
