"""docker-compose.yml, the Dockerfile and deploy/example.env fit together and with the app.

No container engine runs on the test machines, so the images are not built here; these
checks catch what would break `docker compose up`: unknown commands or settings, missing
variables, files the build cannot find, ports published that should not be.
test_production_stack.py then runs the same commands on loopback."""

from __future__ import annotations

import fnmatch
import shlex
from dataclasses import fields

import pytest
from click.testing import CliRunner

from backend.cli import main
from backend.settings import Settings
from tests.deploy.compose_files import (
    EXAMPLE_ENV,
    NGINX,
    ROOT,
    compose,
    compose_variables,
    dockerfile_stages,
    example_env,
    render_template,
    stage_env,
)

APP_SERVICES = ("init", "web", "worker", "worker-urgent", "scheduler")
LONG_RUNNING = ("db", "redis", "web", "worker", "worker-urgent", "scheduler", "proxy")
SETTINGS = {f"MM_{f.name.upper()}" for f in fields(Settings)}
COMPOSE_ONLY = {"MM_DB_PASSWORD", "MM_SERVER_NAME", "MM_WEB_PROCESSES", "MM_IMAGE_TAG",
                "MM_HTTP_PUBLISH", "MM_HTTPS_PUBLISH", "MM_PYTHON_IMAGE", "MM_NODE_IMAGE",
                "MM_NGINX_IMAGE", "MM_POSTGIS_IMAGE", "MM_REDIS_IMAGE"}


@pytest.fixture(scope="module")
def services() -> dict:
    return compose(example_env())["services"]


def test_the_example_env_file_provides_every_required_variable() -> None:
    required = {name for name, kind in compose_variables().items() if kind == "?"}
    assert required <= set(example_env()), required - set(example_env())
    with pytest.raises(KeyError, match="MM_DB_PASSWORD"):
        compose({})


def test_every_variable_is_a_setting_or_one_of_compose(services: dict) -> None:
    names = set(example_env()) | set(compose_variables())
    for name in APP_SERVICES:
        names |= set(services[name]["environment"])
    assert {n for n in names if n.startswith("MM_")} <= SETTINGS | COMPOSE_ONLY


def test_the_example_env_file_parses_as_settings() -> None:
    settings = Settings.from_env(example_env())
    assert settings.base_url.startswith("https://") and settings.smtp_starttls is True
    assert settings.rate_limit_reports == "20/minute;200/hour"


def test_the_services_and_their_order(services: dict) -> None:
    assert set(services) == {"db", "redis", "init", "web", "worker", "worker-urgent",
                             "scheduler", "proxy"}
    for name in ("web", "worker", "worker-urgent", "scheduler"):
        assert services[name]["depends_on"]["init"]["condition"] == \
            "service_completed_successfully"
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["init"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["proxy"]["depends_on"]["web"]["condition"] == "service_healthy"
    assert services["init"]["restart"] == "no"


def test_only_the_proxy_is_reachable_from_outside(services: dict) -> None:
    assert [name for name, svc in services.items() if "ports" in svc] == ["proxy"]
    assert services["proxy"]["ports"] == ["80:8080", "443:8443"]


def test_long_running_services_restart_and_have_health_checks(services: dict) -> None:
    for name in LONG_RUNNING:
        assert services[name]["restart"] == "unless-stopped", name
        assert services[name]["healthcheck"]["test"], name


def test_data_lives_in_volumes(services: dict) -> None:
    assert "pgdata:/var/lib/postgresql/data" in services["db"]["volumes"]
    assert "redisdata:/data" in services["redis"]["volumes"]
    assert "--appendonly" in services["redis"]["command"]
    for name in APP_SERVICES:
        assert "media:/media" in services[name]["volumes"]
        assert services[name]["environment"]["MM_MEDIA_ROOT"] == "/media"
        # The erasure ledger outlives a database restore, shared by init and the CLI.
        assert "erasures:/erasures" in services[name]["volumes"]
        assert services[name]["environment"]["MM_ERASURE_LEDGER"].startswith("/erasures/")


def _cli_arguments(command: list[str]) -> list[str]:
    assert command[0] == "maengelmelder"
    return command[1:]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_commands_and_health_checks_are_real_cli_commands(services: dict,
                                                              name: str) -> None:
    commands = [services[name]["command"]]
    if "healthcheck" in services[name]:
        commands.append(services[name]["healthcheck"]["test"][1:])  # after "CMD"
    for command in commands:
        result = CliRunner().invoke(main, [*_cli_arguments(command), "--help"])
        assert result.exit_code == 0, (command, result.output)


def test_web_runs_gunicorn_without_the_embedded_worker(services: dict) -> None:
    command = services["web"]["command"]
    assert "--no-worker" in command and command[command.index("--workers") + 1] == "4"
    assert services["web"]["environment"]["MM_PROXY_HOPS"] == "1"


def test_citizen_facing_jobs_have_a_worker_of_their_own(services: dict) -> None:
    # Every queue is served, and photos and notifications also by a worker that takes
    # nothing else (so a running forwarding or export never delays them).
    assert services["worker"]["command"] == [
        "maengelmelder", "worker", "--no-scheduler", "--queues", "all"]
    assert services["worker-urgent"]["command"] == [
        "maengelmelder", "worker", "--no-scheduler", "--queues", "photos,notify"]
    assert services["worker-urgent"]["healthcheck"] == services["worker"]["healthcheck"]


def test_the_build_targets_exist(services: dict) -> None:
    stages = dockerfile_stages()
    for name in APP_SERVICES:
        assert services[name]["build"]["target"] == "app"
    assert services["proxy"]["build"]["target"] == "proxy"
    assert {"assets", "app", "static", "proxy"} <= set(stages)


def _ignored(path: str) -> bool:
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    return any(fnmatch.fnmatch(path, p) or path.startswith(p.rstrip("/") + "/")
               for p in patterns)


def test_every_file_the_build_copies_exists_and_is_not_ignored() -> None:
    for stage, instructions in dockerfile_stages().items():
        for keyword, arguments in instructions:
            if keyword != "COPY" or arguments.startswith("--from"):
                continue
            *sources, _target = shlex.split(arguments)
            for source in sources:
                assert (ROOT / source).exists(), (stage, source)
                assert not _ignored(source), (stage, source)


def test_the_proxy_image_defines_every_template_variable(services: dict) -> None:
    env = {**stage_env("proxy"), **services["proxy"]["environment"]}
    assert env["NGINX_ENVSUBST_FILTER"] == "^MM_"
    # Empty: 16-mm-resolver.envsh sets it from the container's /etc/resolv.conf.
    assert env["MM_RESOLVER"] == ""
    env["MM_RESOLVER"] = "10.89.0.1"
    rendered = render_template((NGINX / "default.conf.template").read_text(), env)
    assert "resolver 10.89.0.1 valid=5s" in rendered
    assert "${MM_" not in rendered and "$request_uri" in rendered
    assert env["MM_WEB_UPSTREAM"] == "web:8000"
    # nginx accepts a body a little larger than the app does, so the app's 413 is the one
    # clients see, in the app's envelope.
    assert int(env["MM_CLIENT_MAX_BODY"].rstrip("m")) * 2**20 > Settings().max_body_bytes


def test_the_proxy_runs_unprivileged_on_high_ports(services: dict) -> None:
    proxy = dict(dockerfile_stages()["proxy"])
    assert proxy["USER"] == "nginx"
    env = stage_env("proxy")
    published = {port.rsplit(":", 1)[1] for port in services["proxy"]["ports"]}
    assert published == {env["MM_HTTP_PORT"], env["MM_HTTPS_PORT"]} == {"8080", "8443"}


def test_the_app_image_runs_as_a_user_behind_one_proxy() -> None:
    app = dict(dockerfile_stages()["app"])
    assert app["USER"] == "maengelmelder"
    env = stage_env("app")
    assert env["MM_PROXY_HOPS"] == "1" and env["MM_LOG_FORMAT"] == "json"


def test_the_example_env_file_is_not_committed_as_dot_env() -> None:
    assert not (ROOT / ".env").exists() or ".env" in (ROOT / ".gitignore").read_text()
    assert "change-me" in EXAMPLE_ENV.read_text()  # the CLI refuses to run with it
