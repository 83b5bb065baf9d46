"""Reading the deployment files the way Docker does: docker-compose.yml with its variables,
the Dockerfile's stages, the example environment file, the nginx template."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
EXAMPLE_ENV = ROOT / "deploy" / "example.env"
NGINX = ROOT / "deploy" / "nginx"
COMPOSE_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(?::?([-?])([^}]*))?\}")
TEMPLATE_VARIABLE = re.compile(r"\$\{(MM_[A-Z0-9_]+)\}")


def example_env() -> dict[str, str]:
    """The example environment file's variables (Compose's .env syntax)."""
    values = {}
    for line in EXAMPLE_ENV.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def compose(env: dict[str, str]) -> dict[str, Any]:
    """docker-compose.yml with `${VAR}`, `${VAR:-default}` and `${VAR:?error}` replaced
    from `env`; a missing required variable raises KeyError."""

    def substitute(match: re.Match[str]) -> str:
        name, kind, rest = match.groups()
        if env.get(name):
            return env[name]
        if kind == "-":
            return rest
        if kind == "?":
            raise KeyError(f"{name}: {rest}")
        return ""

    return yaml.safe_load(COMPOSE_VARIABLE.sub(substitute, COMPOSE.read_text(encoding="utf-8")))


def compose_variables() -> dict[str, str | None]:
    """Every variable docker-compose.yml uses: name -> kind ('-', '?' or None)."""
    return {name: kind or None
            for name, kind, _ in COMPOSE_VARIABLE.findall(COMPOSE.read_text(encoding="utf-8"))}


def dockerfile_stages() -> dict[str, list[tuple[str, str]]]:
    """Stage name -> its instructions (keyword, arguments), continuation lines joined."""
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    stages: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, arguments = line.partition(" ")
        if keyword.upper() == "FROM":
            name = arguments.split(" AS ")[-1].strip() if " AS " in arguments else arguments
            current = stages.setdefault(name, [])
        current.append((keyword.upper(), arguments.strip()))
    return stages


def stage_env(stage: str) -> dict[str, str]:
    """The ENV values a stage sets (the `KEY=value` form)."""
    values = {}
    for keyword, arguments in dockerfile_stages()[stage]:
        if keyword == "ENV":
            for item in shlex.split(arguments):
                name, _, value = item.partition("=")
                values[name] = value
    return values


def render_template(text: str, env: dict[str, str]) -> str:
    """What the nginx image's envsubst does with NGINX_ENVSUBST_FILTER=^MM_: replace
    `${MM_…}` (every one must be defined); nginx's own `$variables` stay."""
    missing = sorted({name for name in TEMPLATE_VARIABLE.findall(text) if name not in env})
    if missing:
        raise KeyError(f"undefined in the proxy's environment: {missing}")
    return TEMPLATE_VARIABLE.sub(lambda m: env[m.group(1)], text)
