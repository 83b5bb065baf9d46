"""The `maengelmelder` command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy.orm import Session

from backend.city.config import load_city_config
from backend.cli_addresses import addresses
from backend.cli_assets import assets
from backend.cli_photos import photos
from backend.db import migrate
from backend.db.engine import make_engine
from backend.errors import ConfigurationError, DomainError
from backend.settings import Settings, describe_settings

PLACEHOLDER = "change-me"


def _settings() -> Settings:
    settings = Settings.from_env()
    unset = [f"MM_{name.upper()}" for name, value in vars(settings).items()
             if isinstance(value, str) and PLACEHOLDER in value]
    if unset:
        click.echo(f"Error: replace the placeholder '{PLACEHOLDER}' in {', '.join(unset)} "
                   "(see deploy/example.env).", err=True)
        sys.exit(1)
    return settings.with_secret()


def _fail(exc: DomainError) -> None:
    click.echo(f"Error: {exc.message}", err=True)
    for key, problems in exc.fields.items():
        for problem in problems if isinstance(problems, list) else [problems]:
            click.echo(f"  - {key}: {problem}" if key != "problems" else f"  - {problem}",
                       err=True)
    sys.exit(1)


class _Commands(click.Group):
    """A command group that reports domain errors as a message and exit code 1."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except DomainError as exc:
            _fail(exc)


@click.group(cls=_Commands,
             epilog="Settings come from MM_* environment variables; see `maengelmelder settings`.")
def main() -> None:
    """Mängelmelder: citizens report broken traffic lights and street signs."""


@main.command("settings")
def show_settings() -> None:
    """List every MM_* setting with its default and description."""
    for name, default, doc in describe_settings():
        click.echo(f"{name}\n    {doc}\n    default: {default or '(empty)'}")


@main.command()
def init() -> None:
    """Create or upgrade the schema, re-apply erasures made since a restored backup (the
    erasure ledger), load the city configuration, import the districts (and the demo city's
    asset layer)."""
    from backend.services.setup import initialize

    settings = _settings()
    engine = make_engine(settings.database_url)
    result = initialize(engine, settings)
    click.echo(f"Schema at revision {migrate.current_revision(engine)}.")
    if result.config.kept:
        summary = "file applied before; edits made since are kept"
    elif result.config.changed:
        summary = (f"{len(result.config.created)} created, {len(result.config.updated)} "
                   f"updated, {len(result.config.deactivated)} deactivated, rules "
                   f"+{result.config.rules_added} -{result.config.rules_removed}")
    else:
        summary = "unchanged"
    click.echo(f"City configuration: {summary}")
    click.echo(f"Districts from {result.districts_source}: " + (
        f"{len(result.layer.added)} added, {len(result.layer.updated)} updated, "
        f"{len(result.layer.removed)} removed" if result.layer.changed else "unchanged"))
    click.echo(f"Erasure ledger: {result.erasures.erasures} erasure(s) re-applied to "
               f"{result.erasures.reports} report(s)")
    if result.assets is not None:
        demo = result.assets
        click.echo(f"Demo asset layer {demo.layer}: " + (
            f"skipped ({demo.skipped})" if demo.result is None
            else f"{demo.result.summary()} (from {demo.source})"))


@main.group()
def db() -> None:
    """Schema migrations."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Upgrade the schema (default: to the newest revision)."""
    engine = make_engine(_settings().database_url)
    migrate.upgrade(engine, revision)
    click.echo(f"Schema at revision {migrate.current_revision(engine)}.")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Downgrade the schema to REVISION (`base` removes everything)."""
    engine = make_engine(_settings().database_url)
    migrate.downgrade(engine, revision)
    click.echo(f"Schema at revision {migrate.current_revision(engine)}.")


@main.group()
def config() -> None:
    """The city configuration."""


@config.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def config_load(path: str) -> None:
    """Apply a city configuration file (idempotent; codes identify entries)."""
    from backend.services.city_config import apply_city_config

    city = load_city_config(path)
    engine = make_engine(_settings().database_url)
    with Session(engine) as session:
        changes = apply_city_config(session, city)
    if not changes.changed:
        click.echo("Nothing to change.")
        return
    for line in changes.created:
        click.echo(f"created {line}")
    for line in changes.updated:
        click.echo(f"updated {line}")
    for line in changes.deactivated:
        click.echo(f"deactivated {line}")
    click.echo(f"routing rules: +{changes.rules_added} -{changes.rules_removed}")


@config.command("check")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
def config_check(path: str | None) -> None:
    """Validate a city configuration file (default: MM_CITY_CONFIG) and the Open311
    forwarding stored in the database; exit 1 listing each problem."""
    from backend.city.config import problem_lines
    from backend.services.city_config import forwarding_problems

    settings = _settings()
    problems: list[str] = []
    try:
        load_city_config(path or settings.city_config)
    except ConfigurationError as exc:
        problems.extend(problem_lines(exc))
    engine = make_engine(settings.database_url)
    try:
        if migrate.current_revision(engine) is None:
            click.echo("database: no schema yet, not checked")
        else:
            with Session(engine) as session:
                problems.extend(f"department {code}: {field}: {message}"
                                for code, field, message in forwarding_problems(session))
    finally:
        engine.dispose()
    for line in problems:
        click.echo(line)
    if problems:
        sys.exit(1)
    click.echo("ok")


@main.group()
def users() -> None:
    """Staff accounts."""


@users.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["crew", "dispatcher", "analyst",
                                                           "admin"]))
@click.option("--department", "departments", multiple=True,
              help="Department code (repeat for several).")
@click.option("--name", "display_name", default=None, help="Name shown to colleagues.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from standard input instead of prompting.")
def users_create(username: str, role: str, departments: tuple[str, ...],
                 display_name: str | None, password_stdin: bool) -> None:
    """Create a staff account (password prompted, or read from stdin)."""
    from backend.services.staff.users import create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    engine = make_engine(_settings().database_url)
    with Session(engine) as session:
        user = create_user(session, username=username, password=password, role=role,
                           departments=list(departments), display_name=display_name)
        click.echo(f"created {user.username} ({user.role}"
                   + (f"; {', '.join(d.code for d in user.departments)})"
                      if user.departments else ")"))


@users.command("token")
@click.argument("username")
@click.option("--name", default="integration", help="What the token is for.")
def users_token(username: str, name: str) -> None:
    """Create an API token acting as this user (printed once)."""
    from backend.services.staff.auth import create_api_token

    engine = make_engine(_settings().database_url)
    with Session(engine) as session:
        click.echo(create_api_token(session, username, name))


@users.command("demo")
@click.argument("file", type=click.Path(dir_okay=False))
def users_demo(file: str) -> None:
    """Create demo staff accounts (random passwords, written to FILE) if there are none."""
    import os

    from backend.services.city_cache import last_snapshot
    from backend.services.staff.users import create_demo_accounts

    engine = make_engine(_settings().database_url)
    with Session(engine) as session:
        created = create_demo_accounts(session, last_snapshot(session))
    if not created:
        kept = Path(file)
        if kept.is_file():  # this demo's own accounts: show them again
            click.echo(f"Demo staff accounts (log in at /login; kept in {file}):")
            for line in kept.read_text().splitlines()[1:]:
                click.echo("  " + line)
        else:
            click.echo("Staff accounts exist already (no demo accounts file).")
        return
    lines = [f"{username}\t{role}\t{password}" for username, role, password in created]
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("user\trole\tpassword\n" + "\n".join(lines) + "\n")
    click.echo(f"Demo staff accounts (log in at /login; kept in {file}):")
    for line in lines:
        click.echo("  " + line)


@users.command("list")
def users_list() -> None:
    """List staff accounts."""
    from backend.services.staff.users import list_users

    engine = make_engine(_settings().database_url)
    with Session(engine) as session:
        for user in list_users(session):
            departments = ",".join(d.code for d in user.departments) or "-"
            state = "" if user.active else " (inactive)"
            click.echo(f"{user.username}\t{user.role}\t{departments}{state}")


@main.group()
def apikeys() -> None:
    """Keys of Open311 clients."""


@apikeys.command("create")
@click.argument("name")
def apikeys_create(name: str) -> None:
    """Issue a key for an Open311 client (printed once; only its hash is stored)."""
    from backend.services.api_keys import create_api_key

    engine = make_engine(_settings().database_url)
    with Session(engine) as session:
        click.echo(create_api_key(session, name))


@apikeys.command("revoke")
@click.argument("name")
def apikeys_revoke(name: str) -> None:
    """Revoke every key issued under this name."""
    from backend.services.api_keys import revoke_api_key

    engine = make_engine(_settings().database_url)
    with Session(engine) as session:
        click.echo(f"revoked {revoke_api_key(session, name)} key(s)")


@main.group()
def privacy() -> None:
    """Data protection: access and erasure requests, retention."""


@privacy.command("export")
@click.argument("email")
def privacy_export(email: str) -> None:
    """Print everything stored about an e-mail address (JSON)."""
    import json

    from backend.services.privacy import export

    engine = make_engine(_settings().database_url)
    with Session(engine) as session:
        click.echo(json.dumps(export(session, email), ensure_ascii=False, indent=2))


@privacy.command("erase")
@click.argument("email")
def privacy_erase(email: str) -> None:
    """Remove an e-mail address and what identifies its owner; reports stay anonymised."""
    from backend.media.storage import storage_from_settings
    from backend.services.privacy import ErasureLedger, erase

    settings = _settings()
    engine = make_engine(settings.database_url)
    with Session(engine) as session:
        removed = erase(session, storage_from_settings(settings), email,
                        ledger=ErasureLedger.from_settings(settings))
    click.echo(f"erased: {len(removed.report_ids)} report(s) anonymised, {removed.addresses} "
               f"address(es), {removed.subscriptions} push subscription(s), "
               f"{removed.originals} photo original(s)")


@privacy.command("reapply-erasures")
@click.option("--ledger", "ledger_path", default=None, type=click.Path(dir_okay=False),
              help="The erasure ledger (default: MM_ERASURE_LEDGER).")
def privacy_reapply_erasures(ledger_path: str | None) -> None:
    """Erase again what the erasure ledger's addresses had stored before their erasure
    (`init` does this on every start; idempotent)."""
    from backend.media.storage import storage_from_settings
    from backend.services.privacy import ErasureLedger, reapply_erasures

    settings = _settings()
    ledger = ErasureLedger.from_settings(settings, ledger_path)
    engine = make_engine(settings.database_url)
    with Session(engine) as session:
        done = reapply_erasures(session, storage_from_settings(settings), ledger)
    click.echo(f"erasure ledger: {done.entries} entr(ies); {done.erasures} erasure(s) "
               f"re-applied to {done.reports} report(s), {done.addresses} address(es), "
               f"{done.subscriptions} push subscription(s), {done.originals} photo "
               "original(s)")


@privacy.command("retention")
def privacy_retention() -> None:
    """Apply the retention period now (workers also do this every few minutes)."""
    from backend.media.storage import storage_from_settings
    from backend.services.privacy import retention_sweep

    settings = _settings()
    engine = make_engine(settings.database_url)
    with Session(engine) as session:
        removed = retention_sweep(session, storage_from_settings(settings),
                                  settings.privacy_retention_days)
    click.echo(f"retention: {len(removed.report_ids)} closed report(s) cleaned")


@main.group()
def opendata() -> None:
    """Open data for the city's portal."""


@opendata.command("export")
@click.argument("directory", type=click.Path(file_okay=False))
def opendata_export(directory: str) -> None:
    """Write reports.csv, reports.geojson and datapackage.json (run it nightly from cron)."""
    from pathlib import Path

    from backend.services import opendata as service
    from backend.services.city_cache import city_snapshot

    settings = _settings()
    city = load_city_config(settings.city_config)
    engine = make_engine(settings.database_url)
    with Session(engine) as session:
        snap = city_snapshot(session)
        meta = service.metadata_for(city, settings)
        for path in service.export_files(session, snap, Path(directory), meta):
            click.echo(f"wrote {path} ({path.stat().st_size:,} bytes)")


@main.group()
def districts() -> None:
    """The district layer."""


@districts.command("import")
@click.argument("source")
@click.option("--number-field", default=None, help="Property holding the district number.")
@click.option("--name-field", default=None, help="Property holding the district name.")
@click.option("--attribution", default=None, help="Data source attribution to show.")
def districts_import(source: str, number_field: str | None, name_field: str | None,
                     attribution: str | None) -> None:
    """Replace the district layer with a GeoJSON file or http(s) URL (any declared CRS)."""
    from backend.services.setup import import_districts

    settings = _settings()
    engine = make_engine(settings.database_url)
    city = load_city_config(settings.city_config)
    with Session(engine) as session:
        changes = import_districts(
            session, source,
            number_field=number_field or city.districts["number_field"],
            name_field=name_field or city.districts["name_field"],
            attribution=attribution if attribution is not None
            else city.districts["attribution"],
        )
    click.echo(f"{len(changes.added)} added, {len(changes.updated)} updated, "
               f"{len(changes.removed)} removed.")


@main.command()
@click.option("--reports", "count", type=int, default=2000, show_default=True)
@click.option("--seed", "random_seed", type=int, default=1, show_default=True)
@click.option("--if-empty", is_flag=True, help="Only seed when there are no reports yet.")
def seed(count: int, random_seed: int, if_empty: bool) -> None:
    """Create realistic demo reports across the city (hotspots, every status, three years)."""
    from backend.services.seeding import report_count, seed_reports

    engine = make_engine(_settings().database_url)
    with Session(engine) as session:
        if if_empty and report_count(session) > 0:
            click.echo("Reports exist already; not seeding.")
            return
        result = seed_reports(session, count, random_seed=random_seed)
    click.echo(f"Created {result.reports} reports with {result.events} history events "
               f"in {result.seconds:.1f} s.")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="Web processes.")
@click.option("--no-worker", is_flag=True, help="Do not start the embedded job worker.")
def serve(host: str, port: int, workers: int, no_worker: bool) -> None:
    """Serve the web app with gunicorn, plus an embedded background-job worker."""
    from backend.serving import serve_forever

    serve_forever(_settings(), host=host, port=port, workers=workers, with_worker=not no_worker)


@main.command()
@click.option("--no-scheduler", is_flag=True,
              help="Leave the scheduler to `maengelmelder scheduler` (scaled-out setups).")
@click.option("--queues", default="all", show_default=True,
              help="Comma-separated queues to serve, taken most urgent first: photos, notify, "
                   "forward, export, housekeeping (or `all`).")
def worker(no_scheduler: bool, queues: str) -> None:
    """Run a background-job worker (rq) until stopped."""
    from backend.queue import parse_queue_names
    from workers.runner import run_worker

    try:
        names = parse_queue_names(queues)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--queues") from exc
    run_worker(_settings(), with_scheduler=not no_scheduler, queue_names=names)


@main.command()
def scheduler() -> None:
    """Run the scheduler until stopped: hands out the notification and forwarding outboxes,
    re-queues lost work, pulls Open311 statuses, applies retention. Run one per city."""
    from workers.runner import run_scheduler

    run_scheduler(_settings())


@main.command()
@click.argument("process", type=click.Choice(["web", "worker", "scheduler"]))
@click.option("--url", default="http://127.0.0.1:8000/healthz", show_default=True,
              help="What `web` asks.")
def healthcheck(process: str, url: str) -> None:
    """Exit 0 when this machine's PROCESS is alive, 1 (with the reason) otherwise; for
    container health checks."""
    import urllib.request

    from workers.health import scheduler_problem, worker_problem
    from workers.runner import scheduler_heartbeat

    settings = Settings.from_env()
    problem: str | None
    if process == "web":
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
                problem = None if response.status == 200 else f"HTTP {response.status}"
        except OSError as exc:
            problem = f"{url}: {exc}"
    elif process == "worker":
        problem = worker_problem(settings.redis_url)
    else:
        problem = scheduler_problem(scheduler_heartbeat(settings))
    if problem:
        click.echo(f"unhealthy: {problem}", err=True)
        sys.exit(1)
    click.echo("ok")


@main.command("collect-static")
@click.argument("directory", type=click.Path(file_okay=False))
def collect_static(directory: str) -> None:
    """Copy the files a reverse proxy may serve itself (app modules, styles, icons and the
    public map-library files) into DIRECTORY, under their URL paths, each with a .gz twin."""
    from backend.static_files import collect

    count = collect(Settings.from_env(), Path(directory))
    click.echo(f"{count} files in {directory}")


main.add_command(addresses)
main.add_command(assets)
main.add_command(photos)

if __name__ == "__main__":  # pragma: no cover
    main()
