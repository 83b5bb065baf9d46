"""The production nginx (deploy/nginx) on loopback: rendered like the nginx image does, in
front of a gunicorn port, with a throwaway TLS certificate. Used by the deployment tests and
by bench/load.py --proxy."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.deploy.compose_files import NGINX, compose, example_env, render_template, stage_env
from tests.peers.certificates import self_signed_certificate
from tests.servers import free_port


def nginx_binary() -> str | None:
    """Debian's nginx, if installed."""
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    return found if Path(found).exists() else None


@dataclass
class RunningProxy:
    """nginx started by `start_proxy`."""

    proc: subprocess.Popen
    http_port: int
    https_port: int
    ca_file: Path
    workdir: Path

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def _main_config(workdir: Path, site: Path) -> Path:
    """What the nginx image's /etc/nginx/nginx.conf does around conf.d, with paths a test
    may write to."""
    for name in ("mm-proxy.conf", "mm-static-headers.conf"):
        shutil.copy(NGINX / name, workdir / name)
    temp = workdir / "nginx-temp"
    temp.mkdir(exist_ok=True)
    user = "user root root;" if os.geteuid() == 0 else ""
    main = workdir / "nginx.conf"
    main.write_text(f"""
{user}
daemon off;
worker_processes 2;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-main-error.log notice;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    keepalive_timeout 65;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {site};
}}
""")
    return main


def start_proxy(workdir: Path, web_port: int, static_root: Path, *,
                client_max_body: str | None = None, https_port: int | None = None
                ) -> RunningProxy:
    """nginx with the compose proxy's environment, pointed at 127.0.0.1:`web_port`."""
    nginx = nginx_binary()
    assert nginx, "nginx is not installed"
    workdir.mkdir(parents=True, exist_ok=True)
    cert, key = self_signed_certificate(workdir, "mm-test-proxy")
    http_port, https_port = free_port(), https_port or free_port()
    proxy = compose({**example_env(), "MM_DB_PASSWORD": "x"})["services"]["proxy"]
    env = {**stage_env("proxy"), **proxy["environment"],
           "MM_WEB_UPSTREAM": f"127.0.0.1:{web_port}", "MM_RESOLVER": "127.0.0.1",
           "MM_STATIC_ROOT": str(static_root),
           "MM_ACME_ROOT": str(workdir / "acme"), "MM_HTTP_PORT": str(http_port),
           "MM_HTTPS_PORT": str(https_port),
           "MM_ACCESS_LOG": str(workdir / "nginx-access.log"),
           "MM_ERROR_LOG": str(workdir / "nginx-error.log"),
           "MM_TLS_CERTIFICATE": str(cert), "MM_TLS_CERTIFICATE_KEY": str(key)}
    if client_max_body:
        env["MM_CLIENT_MAX_BODY"] = client_max_body
    site = workdir / "default.conf"
    site.write_text(render_template((NGINX / "default.conf.template").read_text(), env))
    main = _main_config(workdir, site)
    checked = subprocess.run([nginx, "-t", "-c", str(main)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    log = (workdir / "nginx.log").open("ab")
    proc = subprocess.Popen([nginx, "-c", str(main)], stdout=log, stderr=subprocess.STDOUT)
    running = RunningProxy(proc, http_port, https_port, cert, workdir)
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(f"http://127.0.0.1:{http_port}/", timeout=2, allow_redirects=False)
            return running
        except requests.RequestException:
            if proc.poll() is not None or time.monotonic() > deadline:
                running.stop()
                raise RuntimeError("nginx did not start") from None
            time.sleep(0.1)
