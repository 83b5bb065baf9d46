"""The erasure ledger file: keyed hashes only, whole lines from concurrent processes, and a
line that is no entry of this installation named by its number."""

from __future__ import annotations

import hashlib
import multiprocessing
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from backend.services.privacy import ErasureLedger, LedgerError
from tests.conftest import SECRET

ADDRESS = "Rita_Meier@example.org"


def test_the_ledger_holds_a_keyed_hash_and_never_the_address(tmp_path: Path) -> None:
    ledger = ErasureLedger(tmp_path / "state" / "erasure-ledger.jsonl", SECRET)
    at = datetime(2026, 5, 4, 12, 30, tzinfo=UTC)
    entry = ledger.append(f"  {ADDRESS.upper()} ", at=at)
    text = ledger.path.read_text()
    for plain in (ADDRESS, ADDRESS.lower(), "rita", "example.org",
                  hashlib.sha256(ADDRESS.lower().encode()).hexdigest()[:16]):
        assert plain.lower() not in text.lower(), plain
    assert entry.key == ledger.key(ADDRESS) == ledger.key(ADDRESS.lower())
    assert entry.key != ErasureLedger(ledger.path, "another secret").key(ADDRESS)
    assert ledger.read() == [entry] and entry.at == at
    assert stat.S_IMODE(ledger.path.stat().st_mode) == 0o600
    assert text.count("\n") == 1 and text.endswith("\n")


def test_a_missing_ledger_has_no_entries(tmp_path: Path) -> None:
    assert ErasureLedger(tmp_path / "none.jsonl", SECRET).read() == []


def _append_many(path: str, count: int) -> None:
    ledger = ErasureLedger(Path(path), SECRET)
    for n in range(count):
        ledger.append(f"person{n}-{multiprocessing.current_process().pid}@example.org")


def test_processes_appending_at_once_never_interleave_lines(tmp_path: Path) -> None:
    path = tmp_path / "erasure-ledger.jsonl"
    processes = [multiprocessing.get_context("fork").Process(target=_append_many,
                                                             args=(str(path), 200))
                 for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    entries = ErasureLedger(path, SECRET).read()  # raises if any line were mixed
    assert len(entries) == 800 and len({e.id for e in entries}) == 800
    assert len(path.read_text().splitlines()) == 800


@pytest.mark.parametrize(("bad_line", "reason"), [
    ('{"at": "2026-05-04T12:00:00+00:00", "key": "ab"', "not an erasure entry"),
    ('{"at": "gestern", "key": "%s", "kid": "%s", "id": "x"}', "not an erasure entry"),
    ('{"at": "2026-05-04T12:00:00", "key": "%s", "kid": "%s", "id": "x"}',
     "not an erasure entry"),  # a time without its zone cannot be compared
    ('["a list"]', "not an erasure entry"),
    ('{"at": "2026-05-04T12:00:00+00:00", "key": "%s", "kid": "0123456789abcdef", '
     '"id": "x"}', "another MM_SECRET_KEY"),
])
def test_a_line_that_is_no_entry_is_named_by_its_number(tmp_path: Path, bad_line: str,
                                                        reason: str) -> None:
    ledger = ErasureLedger(tmp_path / "erasure-ledger.jsonl", SECRET)
    ledger.append("first@example.org")
    if bad_line.count("%s") == 2:
        bad_line %= ("0" * 64, ledger.key_id)
    elif "%s" in bad_line:
        bad_line %= ("0" * 64,)
    with ledger.path.open("a") as fh:
        fh.write(bad_line + "\n")
    ledger.append("third@example.org")
    with pytest.raises(LedgerError) as caught:
        ledger.read()
    assert "line 2 " in caught.value.message and reason in caught.value.message
    assert caught.value.fields == {"line": 2}


def test_a_line_cut_short_by_a_crash_stays_on_its_own_line(tmp_path: Path) -> None:
    ledger = ErasureLedger(tmp_path / "erasure-ledger.jsonl", SECRET)
    ledger.append("first@example.org")
    with ledger.path.open("a") as fh:
        fh.write('{"at": "2026-05-04T12:')  # the process died mid-write
    later = ledger.append("later@example.org")
    with pytest.raises(LedgerError, match="line 2 "):
        ledger.read()
    lines = ledger.path.read_text().splitlines()
    ledger.path.write_text("\n".join([lines[0], lines[2]]) + "\n")  # what the operator does
    assert ledger.read()[1] == later
