"""The compose stack that `scripts/deploy-test --up` starts with podman, as the tests see it:
its address, its containers, and the commands an operator would type."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.polling import wait_until

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Stack:
    dir: Path
    project: str
    url: str
    metrics_token: str
    compose_bin: str
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path) -> Stack:
        facts = dict(line.split("=", 1) for line in
                     (directory / "stack.env").read_text().splitlines() if "=" in line)
        env = {**os.environ, "CONTAINERS_CONF": facts["CONTAINERS_CONF"]}
        return cls(Path(facts["MM_STACK_DIR"]), facts["MM_STACK_PROJECT"], facts["MM_STACK_URL"],
                   facts["MM_STACK_METRICS_TOKEN"], facts["MM_STACK_COMPOSE"], env)

    # ---- commands ----
    def podman(self, *args: str, input: str | None = None, check: bool = True,
               timeout: float = 120) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(["podman", *args], input=input, capture_output=True, text=True,
                              env=self.env, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)}: {done.stderr.strip()}")
        return done

    def compose(self, *args: str, stdin: bytes | None = None, timeout: float = 300) -> bytes:
        """Run podman-compose in the stack's directory; its standard output."""
        done = subprocess.run(
            [self.compose_bin, "--in-pod", "false", "-p", self.project, *args], cwd=self.dir,
            input=stdin, capture_output=True, env=self.env, timeout=timeout)
        assert done.returncode == 0, (
            f"podman-compose {' '.join(args)}:\n{done.stderr.decode()[-3000:]}")
        return done.stdout

    def container(self, service: str, number: int = 1) -> str:
        return f"{self.project}_{service}_{number}"

    def containers(self, service: str) -> list[str]:
        """The running containers of `service`."""
        out = self.podman("ps", "--filter", f"label=com.docker.compose.project={self.project}",
                          "--filter", f"label=com.docker.compose.service={service}",
                          "--format", "{{.Names}}").stdout
        return sorted(out.split())

    def exec(self, service: str, *command: str, input: str | None = None) -> str:
        return self.podman("exec", "-i", self.container(service), *command, input=input).stdout

    def psql(self, sql: str) -> str:
        return self.exec("db", "psql", "-U", "maengelmelder", "-d", "maengelmelder", "-At",
                         "-v", "ON_ERROR_STOP=1", "-c", sql).strip()

    def state(self, name: str) -> dict[str, Any]:
        return json.loads(self.podman("inspect", "--format", "{{json .State}}", name).stdout)

    def healthy(self, name: str) -> bool:
        """The container runs and its compose healthcheck passes now."""
        try:
            if not self.state(name)["Running"]:
                return False
        except AssertionError:
            return False
        return self.podman("healthcheck", "run", name, check=False).returncode == 0

    def remove(self) -> None:
        """Remove every container and volume of the stack (its directory and .env stay)."""
        names = self.podman("ps", "-aq", "--filter",
                            f"label=com.docker.compose.project={self.project}").stdout.split()
        if names:
            self.podman("rm", "-f", *names)
        volumes = self.podman("volume", "ls", "-q", "--filter",
                              f"label=com.docker.compose.project={self.project}").stdout.split()
        if volumes:
            self.podman("volume", "rm", "-f", *volumes)

    def start(self) -> None:
        """Start the services in order, as `scripts/deploy-test --up` does."""
        done = subprocess.run([str(ROOT / "scripts" / "deploy-test"), "--start"],
                              capture_output=True, text=True, env=self.env, timeout=600)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

    def gateway(self) -> str:
        """The address of this machine on the stack's network (where containers reach it)."""
        network = json.loads(self.podman("network", "inspect", f"{self.project}_default").stdout)
        return network[0]["subnets"][0]["gateway"]

    def logs(self, name: str, since: str | None = None) -> str:
        args = ["logs", *(["--since", since] if since else []), name]
        done = self.podman(*args)
        return done.stdout + done.stderr

    # ---- HTTP through the proxy ----
    def http(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE would replace `verify`
        session.verify = str(self.certificate)
        return session

    @property
    def certificate(self) -> Path:
        """The stack's generated certificate (for localhost), which clients here trust."""
        return self.dir / "deploy" / "certs" / "fullchain.pem"

    def ready(self) -> bool:
        try:
            answer = self.http().get(f"{self.url}/readyz", timeout=5)
        except requests.RequestException:
            return False
        return answer.status_code == 200 and answer.json().get("status") == "ok"

    def wait_ready(self, timeout: float = 120) -> None:
        wait_until(self.ready, "/readyz through the proxy", timeout=timeout, interval=0.5)

    def staff(self, role: str, department: str | None = None) -> requests.Session:
        """A logged-in staff session (a new account of `role`, created with the CLI)."""
        username = f"{role}-{uuid.uuid4().hex[:8]}"
        password = uuid.uuid4().hex
        self.exec("web", "maengelmelder", "users", "create", username, "--role", role,
                  *(["--department", department] if department else []), "--password-stdin",
                  input=password + "\n")
        session = self.http()
        session.headers["Origin"] = self.url
        login = session.post(f"{self.url}/api/v1/auth/login", timeout=10,
                             json={"username": username, "password": password})
        assert login.status_code == 200, login.text
        session.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        return session


def elapsed(since: float) -> float:
    return round(time.monotonic() - since, 1)
