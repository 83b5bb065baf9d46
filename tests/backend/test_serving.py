"""Serving: tracking tokens never reach the access log."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from gunicorn.config import Config

from backend.log_format import anonymize_ip, scrub
from backend.serving import EmbeddedWorkers, JsonLinesLogger, RedactingLogger, gunicorn_options

TOKEN = "Xk3vQ9-pL_2mZr8sT4wYb7nC1dE6fG0h"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GET /api/v1/track/abcDEF123 HTTP/1.1", "GET /api/v1/track/[redacted] HTTP/1.1"),
        ("/api/v1/track/abc?x=1", "/api/v1/track/[redacted]?x=1"),
        ("?token=secret&x=1", "?token=[redacted]&x=1"),
        ("token=secret&x=1", "token=[redacted]&x=1"),
        ("x=1&token=secret", "x=1&token=[redacted]"),
        ("x=1&tracking_token=secret&y=2", "x=1&tracking_token=[redacted]&y=2"),
        (f"/api/v1/track/{TOKEN}/photos", "/api/v1/track/[redacted]/photos"),
        (f"https://mm.example/api/v1/track/{TOKEN}",
         "https://mm.example/api/v1/track/[redacted]"),
        (f"GET /api/v1/track/{TOKEN}?token={TOKEN} HTTP/1.1",
         "GET /api/v1/track/[redacted]?token=[redacted] HTTP/1.1"),
        (f"GET /api/v1/unsubscribe/{TOKEN} HTTP/1.1",
         "GET /api/v1/unsubscribe/[redacted] HTTP/1.1"),
        ("connecting to postgresql+psycopg://mm:s3cr3t@db:5432/mm",
         "connecting to postgresql+psycopg://mm:[redacted]@db:5432/mm"),
        ("redis://:s3cr3t@redis:6379/0", "redis://:[redacted]@redis:6379/0"),
        ("host=db password=s3cr3t dbname=mm", "host=db password=[redacted] dbname=mm"),
    ],
    ids=["request-line", "path-with-query", "query-with-question-mark", "bare-query",
         "token-last", "tracking_token", "sub-path", "referer-url", "path-and-query",
         "unsubscribe", "database-url", "redis-url", "conninfo"],
)
def test_redact_removes_tracking_tokens(text: str, expected: str) -> None:
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "GET /api/v1/reports/k7p3xr9q HTTP/1.1",
        "/api/v1/reports?status=open&tokenizer=x",
        "mytoken=abc",
        "/api/v1/tracking",
        "-",
        "",
    ],
)
def test_redact_leaves_other_text_alone(text: str) -> None:
    assert scrub(text) == text


def _logger() -> RedactingLogger:
    cfg = Config()
    cfg.set("accesslog", "-")
    return RedactingLogger(cfg)


def _request(path: str, query: str = "", referer: str = "-") -> tuple[Any, Any, dict[str, Any]]:
    raw_uri = f"{path}?{query}" if query else path
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": raw_uri,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "192.0.2.7",
        "HTTP_USER_AGENT": "Mozilla/5.0",
        "HTTP_REFERER": referer,
    }
    headers = [("Host", "mm.test"), ("User-Agent", "Mozilla/5.0"), ("Referer", referer)]
    req = SimpleNamespace(headers=headers)
    resp = SimpleNamespace(status="200 OK", sent=512,
                           headers=[("Content-Type", "application/json")])
    return resp, req, environ


def _track_request() -> tuple[Any, Any, dict[str, Any]]:
    return _request(f"/api/v1/track/{TOKEN}", f"token={TOKEN}&lang=de",
                    referer=f"https://mm.test/track/{TOKEN}")


def test_the_access_log_atoms_of_the_standard_format_hold_no_token() -> None:
    atoms = _logger().atoms(*_track_request(), timedelta(milliseconds=12))

    assert atoms["r"] == "GET /api/v1/track/[redacted]?token=[redacted]&lang=de HTTP/1.1"
    assert atoms["U"] == "/api/v1/track/[redacted]"
    assert atoms["q"] == "token=[redacted]&lang=de"
    assert atoms["f"] == "https://mm.test/track/[redacted]"
    assert atoms["s"] == "200"
    assert atoms["h"] == "192.0.2.0"  # shortened: addresses are personal data


def test_no_access_log_atom_holds_the_token() -> None:
    # Every atom can be used in a custom access_log_format: headers ({referer}i) and
    # environ values ({raw_uri}e, {path_info}e, {query_string}e) included.
    atoms = _logger().atoms(*_track_request(), timedelta(milliseconds=12))
    leaking = sorted(key for key, value in atoms.items() if TOKEN in str(value))
    assert leaking == []


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_the_written_access_log_line_holds_no_token() -> None:
    logger = _logger()
    captured = _Lines()
    logger.access_log.handlers = [captured]
    logger.access(*_track_request(), timedelta(milliseconds=12))
    lines = captured.lines
    assert len(lines) == 1
    assert TOKEN not in lines[0]
    assert '"GET /api/v1/track/[redacted]?token=[redacted]&lang=de HTTP/1.1" 200 512' \
        in lines[0]


def test_other_requests_are_logged_unchanged() -> None:
    atoms = _logger().atoms(*_request("/api/v1/reports/k7p3xr9q", "lang=de"),
                            timedelta(milliseconds=3))
    assert atoms["r"] == "GET /api/v1/reports/k7p3xr9q?lang=de HTTP/1.1"
    assert atoms["U"] == "/api/v1/reports/k7p3xr9q"
    assert atoms["q"] == "lang=de"


def test_the_server_uses_the_redacting_logger() -> None:
    options = gunicorn_options("127.0.0.1", 8000, 2)
    assert options["logger_class"] is RedactingLogger
    assert options["accesslog"] == "-"
    assert options["bind"] == "127.0.0.1:8000"
    assert options["workers"] == 2


@pytest.mark.parametrize(("address", "logged"), [
    ("192.0.2.7", "192.0.2.0"), ("2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::"),
    ("::1", "::"), ("-", "-"), ("unix:/run/gunicorn.sock", "unix:/run/gunicorn.sock"),
])
def test_client_addresses_are_shortened(address: str, logged: str) -> None:
    assert anonymize_ip(address) == logged


def test_json_access_lines_are_redacted_and_parse() -> None:
    options = gunicorn_options("127.0.0.1", 8000, 2, "json")
    assert options["logger_class"] is JsonLinesLogger
    cfg = Config()
    cfg.set("accesslog", "-")
    logger = JsonLinesLogger(cfg)
    captured = _Lines()
    logger.access_log.handlers = [captured]
    logger.access(*_track_request(), timedelta(milliseconds=12))
    entry = json.loads(captured.lines[0])
    assert entry["path"] == "/api/v1/track/[redacted]"
    assert entry["query"] == "token=[redacted]&lang=de"
    assert entry["client"] == "192.0.2.0" and entry["status"] == "200"
    assert entry["seconds"] == 0.012 and TOKEN not in captured.lines[0]


class _StubbornWorkers(EmbeddedWorkers):
    """Embedded "workers" that ignore the polite SIGTERM and hold a child (their job
    process) that ignores it too: what a worker stuck in a job looks like from outside."""

    def _start(self, args: tuple[str, ...]) -> subprocess.Popen:
        script = ("import os, signal, time\n"
                  "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                  "if os.fork() == 0:\n"
                  "    time.sleep(300)\n"
                  "time.sleep(300)\n")
        return subprocess.Popen([sys.executable, "-c", script], start_new_session=True)


def _living_members(groups: list[int]) -> list[int]:
    """Processes of these process groups that still run (zombies waiting for init to reap
    them do not count)."""
    living = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) in groups and fields[0] != "Z":
            living.append(int(stat.parent.name))
    return living


def test_a_stuck_worker_never_makes_the_shutdown_hang(caplog: pytest.LogCaptureFixture
                                                      ) -> None:
    workers = _StubbornWorkers({}, (("a",), ("b",)))
    workers.start()
    time.sleep(0.5)  # both have set their signal handler and forked
    groups = [p.pid for p in workers.processes]
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="backend.serving"):
        workers.stop(grace_s=1.0)
    assert time.monotonic() - started < 15
    assert all(p.poll() is not None for p in workers.processes)
    assert not _living_members(groups)  # the job processes went with them
    assert "sending SIGKILL" in caplog.text
