"""The production setup of docker-compose.yml, run on loopback without a container engine:
the same commands, environment and nginx configuration as the containers, with PostGIS,
Redis and an SMTP server in place of the compose services.

One journey through the TLS proxy: static files from nginx, a photo report through the
proxy to gunicorn, the photo processed by a worker, a staff status change e-mailed to the
reporter; per-client rate limits behind the proxy; nginx's own errors in the API envelope;
health checks of every process; and no token, e-mail address or secret in any log.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests import servers
from tests.conftest import unavailable
from tests.deploy.compose_files import ROOT, compose, example_env
from tests.deploy.proxy import RunningProxy, nginx_binary, start_proxy
from tests.peers.smtp_server import SmtpServer
from tests.polling import wait_until
from tests.shared_data import shared_data_dir

pytestmark = pytest.mark.slow

PHOTO = shared_data_dir() / "photos" / "gps" / "DSCN0010.jpg"
REPORTER = "melder.stack@example.org"
STAFF_PASSWORD = "stack test password " + secrets.token_hex(4)


@dataclass
class Stack:
    """The running processes of the compose services, by name."""

    workdir: Path
    env: dict[str, str]
    web_port: int
    proxy: RunningProxy | None = None
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.proxy.url

    @property
    def ca_file(self) -> Path:
        return self.proxy.ca_file

    def start(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.workdir / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(command, cwd=ROOT, env=env or self.env,
                                            stdout=log, stderr=subprocess.STDOUT)

    def stop(self, name: str) -> None:
        proc = self.procs[name]
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.workdir.glob("*.log")))


def _cli(arguments: list[str]) -> list[str]:
    """A compose command (`maengelmelder …`) as this interpreter runs it."""
    assert arguments[0] == "maengelmelder"
    return [sys.executable, "-m", "backend.cli", *arguments[1:]]


def _replace(command: list[str], option: str, value: str) -> list[str]:
    command = list(command)
    command[command.index(option) + 1] = value
    return command


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
def stack(postgis_server: servers.RunningServer, redis_server: servers.RunningServer,
          districts_file: Path, smtp: SmtpServer,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not nginx_binary():
        unavailable("nginx is not installed (scripts/bootstrap installs it as root)")
    workdir = tmp_path_factory.mktemp("stack")
    # The operator's .env: the example with every "change-me" replaced.
    dot_env = {**example_env(), "MM_DB_PASSWORD": secrets.token_urlsafe(16),
               "MM_SECRET_KEY": secrets.token_urlsafe(48),
               "MM_METRICS_TOKEN": secrets.token_urlsafe(16)}
    services = compose(dot_env)["services"]
    database_url = servers.create_database(postgis_server.url, f"mm_stack_{uuid.uuid4().hex[:8]}")
    web_port, https_port = servers.free_port(), servers.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MM_")}
    env.update(dot_env)  # env_file: .env
    env.update(services["web"]["environment"])
    env.update({
        # The compose services' host names are loopback here.
        "MM_DATABASE_URL": database_url,
        "MM_REDIS_URL": redis_server.url.rsplit("/", 1)[0] + "/5",
        "MM_MEDIA_ROOT": str(workdir / "media"),
        "MM_BASE_URL": f"https://127.0.0.1:{https_port}",
        "MM_SMTP_HOST": smtp.host, "MM_SMTP_PORT": str(smtp.port),
        "MM_SMTP_STARTTLS": "false",
        "MM_DISTRICTS_SOURCE": str(districts_file),
        "MM_RATE_LIMIT_REPORTS": "3/minute",
        "MM_NOTIFY_DISPATCH_INTERVAL_S": "1",
    })
    assert not any("change-me" in value for value in env.values())
    stack = Stack(workdir, env, web_port)

    def data_dir(name: str) -> dict[str, str]:  # each container has its own /app/var
        return {**env, "MM_DATA_DIR": str(workdir / f"var-{name}")}

    try:
        init = subprocess.run(_cli(services["init"]["command"]), cwd=ROOT, env=data_dir("init"),
                              capture_output=True, text=True, timeout=300)
        assert init.returncode == 0, init.stdout + init.stderr
        web = _replace(_replace(_replace(services["web"]["command"], "--host", "127.0.0.1"),
                                "--port", str(web_port)), "--workers", "2")
        stack.start("web", _cli(web), data_dir("web"))
        for n in (1, 2):  # docker compose up --scale worker=2
            stack.start(f"worker-{n}", _cli(services["worker"]["command"]),
                        data_dir(f"worker-{n}"))
        stack.start("worker-urgent", _cli(services["worker-urgent"]["command"]),
                    data_dir("worker-urgent"))
        stack.start("scheduler", _cli(services["scheduler"]["command"]), data_dir("scheduler"))
        wait_until(lambda: _healthy(stack, "web"), "web", interval=0.25)

        static = workdir / "static"  # the Dockerfile's `static` stage
        collected = subprocess.run(_cli(["maengelmelder", "collect-static", str(static)]),
                                   cwd=ROOT, env=env, capture_output=True, text=True)
        assert collected.returncode == 0, collected.stderr
        stack.proxy = start_proxy(workdir, web_port, static, client_max_body="1m",
                                  https_port=https_port)
        wait_until(lambda: _get(stack, "/healthz"), "the proxy", interval=0.25)
        yield stack
    finally:
        if stack.proxy is not None:
            stack.proxy.stop()
        for name in reversed(list(stack.procs)):
            stack.stop(name)


def _healthy(stack: Stack, process: str) -> bool:
    extra = ["--url", f"http://127.0.0.1:{stack.web_port}/healthz"] if process == "web" else []
    env = {**stack.env, "MM_DATA_DIR": str(stack.workdir / f"var-{process}")}
    return subprocess.run(_cli(["maengelmelder", "healthcheck", process, *extra]), cwd=ROOT,
                          env=env, capture_output=True).returncode == 0


def _get(stack: Stack, path: str, **kwargs: Any) -> requests.Response | None:
    try:
        return requests.get(stack.url + path, verify=stack.ca_file, timeout=10, **kwargs)
    except requests.RequestException:
        return None


def test_every_process_passes_its_health_check(stack: Stack) -> None:
    assert _healthy(stack, "web")
    assert wait_until(lambda: _healthy(stack, "worker"), "the workers", interval=0.25)
    assert wait_until(lambda: _healthy(stack, "scheduler"), "the scheduler", interval=0.25)
    ready = requests.get(f"{stack.url}/readyz", verify=stack.ca_file, timeout=10)
    assert ready.status_code == 200 and ready.json()["checks"] == {
        "database": "ok", "redis": "ok", "storage": "ok"}


def test_plain_http_redirects_to_https(stack: Stack) -> None:
    response = requests.get(f"http://127.0.0.1:{stack.proxy.http_port}/report?x=1",
                            allow_redirects=False, timeout=10)
    assert response.status_code == 301
    assert response.headers["Location"] == "https://127.0.0.1/report?x=1"


def test_nginx_serves_the_static_files_with_the_apps_headers(stack: Stack) -> None:
    direct = requests.get(f"http://127.0.0.1:{stack.web_port}/app/main.js", timeout=10)
    proxied = _get(stack, "/app/main.js", headers={"Accept-Encoding": "gzip"})
    assert proxied.status_code == 200
    assert proxied.headers["Content-Encoding"] == "gzip"  # the .gz twin, gzip_static
    assert proxied.content == direct.content
    assert "Cross-Origin-Resource-Policy" in proxied.headers  # set by nginx only
    for header in ("X-Content-Type-Options", "Referrer-Policy", "Strict-Transport-Security",
                   "Cache-Control"):
        assert proxied.headers[header] == direct.headers[header], header
    vendor = _get(stack, "/vendor/leaflet/leaflet.js")
    assert vendor.status_code == 200 and "max-age=86400" in vendor.headers["Cache-Control"]
    # Files that are not public fall through to the app, which answers in its envelope.
    hidden = _get(stack, "/vendor/leaflet/leaflet-src.js")
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "not_found"
    page = _get(stack, "/")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")


def test_a_photo_report_through_the_proxy_is_processed_and_its_status_mailed(
    stack: Stack, smtp: SmtpServer,
) -> None:
    session = requests.Session()
    session.verify = str(stack.ca_file)
    session.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment wins
    created = session.post(f"{stack.url}/api/v1/reports", headers={
        "Idempotency-Key": uuid.uuid4().hex}, data={
        "category": "ampel-lampe", "lat": "48.1374", "lon": "11.5755",
        "description": "Ampel dunkel (stack)", "email": REPORTER},
        files={"photos": ("p.jpg", PHOTO.read_bytes(), "image/jpeg")}, timeout=30)
    assert created.status_code == 201, created.text
    report = created.json()
    token = report["tracking_token"]

    def photo_ready() -> Any:
        public = session.get(f"{stack.url}/api/v1/reports/{report['id']}", timeout=10).json()
        return public["photos"]

    photos = wait_until(photo_ready, "the worker to process the photo",
                        interval=0.25)
    image_url = photos[0]["display"]["jpeg"]
    assert image_url.startswith(stack.url)  # links use the public base URL
    image = session.get(image_url, timeout=10)
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/jpeg"
    assert session.get(f"{stack.url}/api/v1/track/{token}", timeout=10).status_code == 200

    # A dispatcher acknowledges it through the proxy (Secure cookie, CSRF header).
    created_user = subprocess.run(
        _cli(["maengelmelder", "users", "create", "stack-admin", "--role", "admin",
              "--password-stdin"]), cwd=ROOT, env=stack.env, input=STAFF_PASSWORD + "\n",
        capture_output=True, text=True)
    assert created_user.returncode == 0, created_user.stderr
    login = session.post(f"{stack.url}/api/v1/auth/login", json={
        "username": "stack-admin", "password": STAFF_PASSWORD}, timeout=10)
    assert login.status_code == 200, login.text
    assert "secure" in login.headers["Set-Cookie"].lower()
    changed = session.post(f"{stack.url}/api/v1/staff/reports/{report['id']}/status",
                           json={"status": "acknowledged"},
                           headers={"X-CSRF-Token": login.json()["csrf_token"]}, timeout=10)
    assert changed.status_code == 200, changed.text
    mail = smtp.wait_for(1, timeout=60)[0]
    assert mail["To"] == REPORTER
    assert stack.url in mail.get_body(("plain",)).get_content()

    # No token, e-mail address or secret in any process's log or in nginx's logs.
    session.get(f"{stack.url}/api/v1/track/{token}?token={token}", timeout=10)
    logs = stack.logs()
    for secret in (token, REPORTER, STAFF_PASSWORD, stack.env["MM_SECRET_KEY"]):
        assert secret not in logs
    access = (stack.workdir / "nginx-access.log").read_text()
    assert "/api/v1/track/[redacted]?token=[redacted]" in access
    for name in ("web", "worker-1", "worker-2", "worker-urgent", "scheduler"):  # json logs
        for line in (stack.workdir / f"{name}.log").read_text().splitlines():
            assert isinstance(json.loads(line), dict), (name, line)
    assert any(json.loads(line).get("path") == "/api/v1/track/[redacted]"
               for line in (stack.workdir / "web.log").read_text().splitlines())
    assert '"client":"127.0.0.0"' in access


def test_rate_limits_count_the_real_client_behind_the_proxy(stack: Stack) -> None:
    # A forged X-Forwarded-For does not give a client a fresh limit: nginx appends the
    # address it saw, and the app trusts exactly that one hop (MM_PROXY_HOPS=1).
    statuses = []
    for n in range(5):
        statuses.append(requests.post(
            f"{stack.url}/api/v1/reports", verify=stack.ca_file, timeout=10,
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
            json={"category": "schild-fehlt", "lat": 48.14, "lon": 11.57}).status_code)
    assert 429 in statuses and statuses.index(429) <= 3
    limited = requests.post(f"{stack.url}/api/v1/reports", verify=stack.ca_file, timeout=10,
                            json={"category": "schild-fehlt", "lat": 48.14, "lon": 11.57})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0


def test_metrics_are_not_public_but_reachable_inside_with_the_token(stack: Stack) -> None:
    assert _get(stack, "/metrics").status_code == 404
    inside = requests.get(f"http://127.0.0.1:{stack.web_port}/metrics", timeout=10, headers={
        "Authorization": f"Bearer {stack.env['MM_METRICS_TOKEN']}"})
    assert inside.status_code == 200 and "mm_http_request_duration_seconds" in inside.text


def test_a_body_over_the_proxy_limit_gets_the_envelope(stack: Stack) -> None:
    response = requests.post(f"{stack.url}/api/v1/reports", verify=stack.ca_file, timeout=30,
                             data={"category": "schild-fehlt"},
                             files={"photos": ("big.jpg", b"\xff" * (2 * 2**20))})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_zz_without_the_app_the_proxy_answers_503_and_logs_no_token(stack: Stack) -> None:
    token = "Zz9-" + secrets.token_urlsafe(24)
    stack.stop("web")
    response = _get(stack, f"/api/v1/track/{token}")
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
    assert response.json()["error"]["code"] == "service_unavailable"
    assert token not in stack.logs()
    # nginx writes the access log line after the answer has gone out: wait for it.
    wait_until(lambda: '"status":503' in (stack.workdir / "nginx-access.log").read_text(),
               "the 503 in nginx's access log", timeout=5, interval=0.05)
