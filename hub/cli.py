"""The `crisishub` command line (protocol.md, "Command line").

A command that prints a value prints it alone on the last line of stdout; errors go to stderr
as one line with a non-zero exit, and nothing half-written is left (each command is one
transaction).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

from pydantic import ValidationError

from hub.errors import HubError, from_validation
from hub.logs import RedactSecrets
from hub.settings import Settings


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.command in ("serve", "demo") else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per migration is noise
    # one line per voice call or operator POST is noise (and would carry the gateway's URL)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactSecrets())  # the hub's own lines, as uvicorn's (serving.py)
    try:
        args.run(args)
    except HubError as error:
        _fail(f"{error.code}: {error.message}")
    except ValidationError as error:
        hub_error = from_validation(error)
        _fail(f"{hub_error.code}: {hub_error.message}")
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:  # one line for the operator, not a traceback
        _fail(f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")


def _fail(message: str) -> NoReturn:
    print(f"crisishub: {message}", file=sys.stderr)
    sys.exit(1)


def _settings(**overrides: Any) -> Settings:
    """Settings from the environment and `overrides`; a bad configuration is one line."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        _fail(f"configuration: {from_validation(error).message}")


def settings_for_cli() -> Settings:
    """Operator commands need no SECRET_KEY: they neither serve nor sign anything."""
    return _settings() if os.environ.get("SECRET_KEY") else _settings(environment="dev")


def run_action(action: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run one domain action with a hub built for the command line: the hub context alone,
    without a serving instance's socket server, handlers or pipelines (hub/instance.py)."""
    from hub.actions.feed import FeedCommits
    from hub.context import Hub
    from hub.db import Database
    from hub.realtime.notify import Notifier

    async def go() -> Any:
        settings = settings_for_cli()
        db = Database(settings.database_url)
        notifier, close_notifier = Notifier(None), None
        if settings.redis_url:  # so running instances hear of operator actions
            from hub.realtime.redis_manager import cli_notifier

            notifier, close_notifier = cli_notifier(settings.redis_url)
        hub = Hub(settings=settings, db=db, notifier=notifier, feed_commits_for=FeedCommits)
        try:
            return await action(hub)
        finally:
            if close_notifier is not None:
                await close_notifier()
            await db.dispose()

    return asyncio.run(go())


# commands ------------------------------------------------------------------------------------


def cmd_migrate(args: argparse.Namespace) -> None:
    from hub.migrate import upgrade

    upgrade(settings_for_cli().database_url)
    print("schema is up to date")


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from hub.app import create_app
    from hub.serving import uvicorn_config

    overrides = {key: value for key, value in (("host", args.host), ("port", args.port)) if value}
    settings = _settings(**overrides)
    app = create_app(settings)
    tune_gc()
    uvicorn.Server(uvicorn_config(settings, app)).run()


def tune_gc() -> None:
    """Fewer, cheaper collections for a long-running server: what start-up built is frozen
    out of every collection, and the youngest generation is collected after 50,000
    allocations instead of 700 (each delivery allocates a few short-lived objects that
    reference counting frees; the collector only has to find cycles)."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def cmd_org_add(args: argparse.Namespace) -> None:
    from hub.actions.directory import add_organisation
    from models.shapes import OrganisationIn

    payload = OrganisationIn(name=args.name, kind=args.kind)
    organisation = run_action(lambda hub: add_organisation(hub, None, payload))
    print(organisation["id"])


def cmd_user_add(args: argparse.Namespace) -> None:
    from hub.actions.directory import add_user
    from models.shapes import UserIn

    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass("Password (empty for token-only access): ") or None
    payload = UserIn(
        username=args.username,
        organisation=args.org,
        discipline=args.discipline,
        display_name=args.name,
        is_admin=args.admin,
        password=password,
    )
    user = run_action(lambda hub: add_user(hub, None, payload))
    print(user["id"])


def cmd_token_create(args: argparse.Namespace) -> None:
    from hub.actions.directory import create_token

    _, raw = run_action(lambda hub: create_token(hub, None, args.username))
    print(raw)


def cmd_incident_create(args: argparse.Namespace) -> None:
    from hub.actions.incidents import create_incident
    from models.shapes import IncidentCreateIn, MemberIn

    members = []
    for spec in args.member or []:
        username, _, role = spec.rpartition(":")
        if not username:
            _fail(f"invalid: --member takes USERNAME:ROLE, not {spec!r}")
        members.append(MemberIn(username=username, role=role))
    payload = IncidentCreateIn(title=args.title, kind=args.kind)
    incident = run_action(lambda hub: create_incident(hub, None, payload, members))
    print(incident["id"])


def cmd_device_add(args: argparse.Namespace) -> None:
    from hub.actions.convoys import add_device

    _, key = run_action(
        lambda hub: add_device(
            hub, args.incident_id, args.label, args.convoy, args.role, args.tak_uid, args.sidc
        )
    )
    print(key)


def cmd_registrations_import(args: argparse.Namespace) -> None:
    from hub.actions.registrations import import_registrations
    from hub.alerts.registrations import RefusedFile, parse

    try:
        with open(args.file, encoding="utf-8-sig", newline="") as stream:
            parsed = parse(stream)
    except RefusedFile as error:
        _fail(f"invalid: {args.file}: {error}")
    except OSError as error:
        _fail(f"invalid: {args.file}: {error.strerror}")
    stored = run_action(lambda hub: import_registrations(hub, parsed, replace=args.replace))
    print(
        f"{len(parsed)} registrations in the file: {stored.added} added, {stored.updated} "
        f"updated, {stored.removed} removed; registrations in all:"
    )
    print(stored.total)


def cmd_contacts_import(args: argparse.Namespace) -> None:
    from hub.actions.contacts import import_contacts
    from hub.directory.transfer import MAX_FILE_BYTES, RefusedFile, read_file

    try:
        with open(args.file, "rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
        records = read_file(args.file, data)
    except RefusedFile as error:
        _fail(f"invalid: {args.file}: {error}")
    except OSError as error:
        _fail(f"invalid: {args.file}: {error.strerror}")
    stored = run_action(lambda hub: import_contacts(hub, records, args.organisation))
    print(
        f"{len(records)} contacts in the file: {stored.added} added, {stored.updated} updated, "
        f"{stored.unchanged} unchanged; contacts in all:"
    )
    print(stored.total)


def cmd_registrations_purge(args: argparse.Namespace) -> None:
    from hub.actions.self_registration import purge_unconfirmed

    purged = run_action(purge_unconfirmed)
    print("self-registrations left unconfirmed for 24 hours, deleted:")
    print(purged)


def cmd_demo(args: argparse.Namespace) -> None:
    from hub.demo import run
    from hub.migrate import upgrade

    overrides: dict[str, Any] = {"environment": "demo"}
    if args.db:
        overrides["database_url"] = f"sqlite:///{os.path.abspath(args.db)}"
    elif not os.environ.get("DATABASE_URL"):
        overrides["database_url"] = "sqlite:///./crisishub-demo.db"
    for key in ("host", "port"):
        if getattr(args, key):
            overrides[key] = getattr(args, key)
    if not os.environ.get("BASEMAP_PMTILES"):
        # The streets around the summit (hub/demo/basemap.py), written at each start beside the
        # demo's database: a newcomer sees them with nothing to download. An operator's wins.
        from hub.demo.basemap import write_demo_basemap

        beside = os.path.dirname(os.path.abspath(args.db)) if args.db else os.getcwd()
        overrides["basemap_pmtiles"] = str(write_demo_basemap(beside))
    settings = _settings(**overrides)
    upgrade(settings.database_url)
    asyncio.run(run(settings, simulate=not args.no_simulator))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crisishub", description="CrisisHub incident hub")
    commands = parser.add_subparsers(dest="command", required=True)

    migrate = commands.add_parser("migrate", help="create or upgrade the schema (idempotent)")
    migrate.set_defaults(run=cmd_migrate)

    serve = commands.add_parser("serve", help="run one hub instance")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(run=cmd_serve)

    org = commands.add_parser("org", help="organisations").add_subparsers(
        dest="verb", required=True
    )
    org_add = org.add_parser("add", help="add an organisation; prints its id")
    org_add.add_argument("name")
    org_add.add_argument("--kind", default="other")
    org_add.set_defaults(run=cmd_org_add)

    user = commands.add_parser("user", help="users").add_subparsers(dest="verb", required=True)
    user_add = user.add_parser("add", help="add a user; prints its id")
    user_add.add_argument("username")
    user_add.add_argument("--org", required=True)
    user_add.add_argument(
        "--discipline", required=True, choices=["D1", "D2", "D3", "D4", "D5", "coord"]
    )
    user_add.add_argument("--name", help="display name (default: the username)")
    user_add.add_argument("--admin", action="store_true")
    user_add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin",
    )
    user_add.set_defaults(run=cmd_user_add)

    token = commands.add_parser("token", help="API tokens").add_subparsers(
        dest="verb", required=True
    )
    token_create = token.add_parser("create", help="create an API token; prints it")
    token_create.add_argument("username")
    token_create.set_defaults(run=cmd_token_create)

    incident = commands.add_parser("incident", help="incidents").add_subparsers(
        dest="verb", required=True
    )
    incident_create = incident.add_parser("create", help="open an incident; prints its id")
    incident_create.add_argument("title")
    incident_create.add_argument(
        "--kind", required=True, choices=["emergency", "event", "exercise"]
    )
    incident_create.add_argument(
        "--member",
        action="append",
        metavar="USERNAME:ROLE",
        help="viewer, contributor or manager; repeatable",
    )
    incident_create.set_defaults(run=cmd_incident_create)

    device = commands.add_parser("device", help="convoy trackers").add_subparsers(
        dest="verb", required=True
    )
    device_add = device.add_parser("add", help="register a tracker; prints its device key")
    device_add.add_argument("incident_id")
    device_add.add_argument("label", metavar="VEHICLE_LABEL")
    device_add.add_argument("--convoy", default="Convoy", help="made on first use")
    device_add.add_argument("--role", default="escort", choices=["lead", "vip", "escort", "follow"])
    device_add.add_argument(
        "--tak-uid",
        metavar="UID",
        help="a TAK device (ATAK, iTAK, WinTAK): the uid of its CoT events (TAK_COT_PORT)",
    )
    device_add.add_argument(
        "--sidc",
        help="its map symbol, an APP-6 / MIL-STD-2525 SIDC (e.g. SFGPUCI----D---)",
    )
    device_add.set_defaults(run=cmd_device_add)

    registrations = commands.add_parser(
        "registrations", help="population alerts' registrations (BE-Alert)"
    ).add_subparsers(dest="verb", required=True)
    registrations_import = registrations.add_parser(
        "import",
        help="import a CSV of registrations, all or nothing; prints how many the hub holds",
    )
    registrations_import.add_argument("file", metavar="FILE.csv")
    registrations_import.add_argument(
        "--replace", action="store_true", help="delete the registrations absent from the file"
    )
    registrations_import.set_defaults(run=cmd_registrations_import)
    registrations_purge = registrations.add_parser(
        "purge-unconfirmed",
        help="delete the self-registrations left unconfirmed for 24 hours; prints how many",
    )
    registrations_purge.set_defaults(run=cmd_registrations_purge)

    contacts = commands.add_parser("contacts", help="the directory's contacts").add_subparsers(
        dest="verb", required=True
    )
    contacts_import = contacts.add_parser(
        "import",
        help="import a CSV (with a header) or vCard file, all or nothing; prints how many the "
        "directory holds",
    )
    contacts_import.add_argument("file", metavar="FILE")
    contacts_import.add_argument(
        "--organisation", help="the owner of the records that name no known organisation"
    )
    contacts_import.set_defaults(run=cmd_contacts_import)

    demo = commands.add_parser(
        "demo", help="seed the Summit Brussels demo, serve it and drive its motorcade"
    )
    demo.add_argument("--host")
    demo.add_argument("--port", type=int)
    demo.add_argument("--db", help="SQLite file (default ./crisishub-demo.db or DATABASE_URL)")
    demo.add_argument("--no-simulator", action="store_true", help="serve without driving")
    demo.set_defaults(run=cmd_demo)
    return parser
