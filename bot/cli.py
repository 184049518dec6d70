"""The `loa` command line (also `python -m bot`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InterfaceError,
    InvalidRequestError,
    OperationalError,
)

from bot import cli_text, logs
from bot.address import Address
from bot.campaign.loader import campaign_key, load_campaign, load_units
from bot.campaign.model import Campaign
from bot.campaign.timeline import timeline
from bot.cli_errors import check_sqlite, database_problem, folder_problem, url_problem
from bot.config import Settings
from bot.documents.formats import FORMATS, writer
from bot.errors import DatabaseLost, Invalid, Problem
from bot.messages import describe, render, render_delivery
from bot.ops import units as unit_ops
from bot.ops.env import Env
from bot.ops.figures import gather
from bot.outfile import write_whole
from bot.store.db import Database, and_migration_errors, display_url

INVALID = 2

# What only one command needs (the channels, the sandbox, Word) is imported by that command:
# a coordinator's `loa units list` should not wait for python-telegram-bot and aiohttp to load.


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `loa` command; a failure Loa knows is said in Vietnamese, never as a traceback."""
    with cli_text.vietnamese():
        try:
            return _main(argv)
        except Invalid as exc:
            return _invalid(exc)
        except and_migration_errors(DBAPIError, sqlite3.Error) as exc:  # e.g. preview --status
            url = Settings.from_env().database_url
            print(describe(database_problem(exc, url)), file=sys.stderr)
            return 1
        except KeyboardInterrupt:  # Ctrl+C: stopping is what was asked for
            return 130


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run  # each command's `set_defaults(run=...)`
    return run(args)


def build_parser() -> argparse.ArgumentParser:
    """`loa` and its commands, with their Vietnamese help (argparse's words: see `main`)."""
    parser = argparse.ArgumentParser(prog="loa", description="Loa: Lifelong Learning Week bot.")
    parser.add_argument("--version", action="version", version=cli_text.version())
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="validate campaign files")
    check.add_argument("files", nargs="+", type=Path, metavar="FILE")
    check.set_defaults(run=_check)

    preview = commands.add_parser(
        "preview", help="every delivery a campaign will make, in time order"
    )
    preview.add_argument("file", type=Path, metavar="FILE")
    preview.add_argument("--units", type=Path, metavar="CSV", help="expand over these units")
    preview.add_argument(
        "--json", action="store_true", help="print the JSON array of docs/design.md (Contracts)"
    )
    preview.add_argument(
        "--status", action="store_true", help="how each went, from DATABASE_URL's outbox"
    )
    preview.set_defaults(run=_preview)

    plan = commands.add_parser(
        "import-plan", help="draft a campaign from a plan document (.docx, .txt, .md)"
    )
    plan.add_argument("file", type=Path, metavar="DOC")
    plan.add_argument("-o", "--output", type=Path, metavar="OUT.yaml", help="write the draft")
    plan.add_argument(
        "--json", action="store_true", help="print the object of docs/design.md (Contracts)"
    )
    plan.add_argument("--force", action="store_true", help="replace OUT.yaml if it exists")
    plan.set_defaults(run=_import_plan)

    db = commands.add_parser("db", help="the database (DATABASE_URL)")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    db_commands.add_parser("upgrade", help="apply migrations").set_defaults(run=_db_upgrade)

    units = commands.add_parser("units", help="units and their registration codes")
    units_commands = units.add_subparsers(dest="units_command", required=True, metavar="COMMAND")
    units_import = units_commands.add_parser(
        "import", help="load units from a CSV file (code,name,type[,parent])"
    )
    units_import.add_argument("file", type=Path, metavar="CSV")
    units_import.add_argument(
        "--campaign", type=Path, metavar="FILE", help="types must be its audiences (LOA_CAMPAIGN)"
    )
    units_import.set_defaults(run=_units_import)
    units_list = units_commands.add_parser("list", help="units, registration codes and chats")
    units_list.set_defaults(run=_units_list)
    reset_link = units_commands.add_parser(
        "reset-link", help="end every link of a unit to its form on the web"
    )
    reset_link.add_argument("code", metavar="CODE", help="the unit's code")
    reset_link.set_defaults(run=_units_reset_link)

    export = commands.add_parser(
        "export", help="the statistics table or the report, from the answers in DATABASE_URL"
    )
    export.add_argument("--format", choices=FORMATS, help="default: the extension of -o, or xlsx")
    export.add_argument("-o", "--output", type=Path, metavar="FILE", help="where to write it")
    export.add_argument("--campaign", type=Path, metavar="FILE", help="default: LOA_CAMPAIGN")
    export.add_argument("--force", action="store_true", help="replace FILE if it exists")
    export.set_defaults(run=_export)

    serve = commands.add_parser(
        "run", help="serve the chats of LOA_CAMPAIGN: polling, or a webhook when WEBHOOK_URL is set"
    )
    serve.set_defaults(run=_serve)
    demo = commands.add_parser(
        "demo", help="the 2023 Lạc Thủy campaign in about two minutes on the sandbox Bot APIs"
    )
    demo.add_argument("--seconds", type=float, default=60, help="how long the week lasts")
    demo.add_argument(
        "--keep", action="store_true", help="keep the sandboxes and the web console up afterwards"
    )
    demo.set_defaults(run=_demo)

    web_link = commands.add_parser(
        "web-link", help="a one-time sign-in link to the web console for a coordinator"
    )
    web_link.add_argument("holder", metavar="PLATFORM:ID", help="as LOA_ADMINS names them")
    web_link.set_defaults(run=_web_link)

    cli_text.localize(parser)
    return parser


def _check(args: argparse.Namespace) -> int:
    status = 0
    for file in args.files:
        try:
            campaign = load_campaign(file)
        except Invalid as exc:
            for problem in exc.problems:
                print(describe(problem))
            status = INVALID
            continue
        print(render("check_ok", file=file, campaign=campaign, count=len(timeline(campaign))))
    return status


def _preview(args: argparse.Namespace) -> int:
    try:
        campaign = load_campaign(args.file)
        units = load_units(args.units, campaign) if args.units else None
    except Invalid as exc:
        for problem in exc.problems:
            print(describe(problem), file=sys.stderr)
        return INVALID
    rows = [(d, render_delivery(d, campaign)) for d in timeline(campaign, units)]
    went = _statuses(args.file) if args.status else None
    if args.json:
        objects = [
            {
                "at": d.at.isoformat(),
                "kind": d.kind.value,
                "audience": d.addressee,
                "template": d.template,
                "text": text,
                **({"status": dict(went.get((d.kind, d.reference), {}))} if went else {}),
            }
            for d, text in rows
        ]
        print(json.dumps(objects, ensure_ascii=False, indent=2))
    else:
        print(render("preview", campaign=campaign, deliveries=rows, went=went))
    return 0


def _statuses(campaign: Path) -> dict[tuple[str, str], Counter[str]]:
    """How the campaign's deliveries went, from the outbox of DATABASE_URL."""
    from bot.ops.progress import how_each_went

    async def read() -> dict[tuple[str, str], Counter[str]]:
        async with _database() as db:
            check_sqlite(db.url)
            return await how_each_went(db, campaign_key(campaign))

    return asyncio.run(read())


def _import_plan(args: argparse.Namespace) -> int:
    """Exit 2 when the document cannot be read or the draft cannot be written."""
    from bot.campaign.plan import draft_yaml, read_plan

    try:
        plan = read_plan(args.file)
    except Invalid as exc:
        return _invalid(exc)
    if args.output:
        draft = draft_yaml(plan, args.file.name, str(args.output)).encode("utf-8")

        def write(out: BinaryIO) -> None:
            out.write(draft)

        try:
            write_whole(args.output, write, force=args.force)
        except Invalid as exc:
            return _invalid(exc)
        except OSError as exc:
            detail = {"file": str(args.output), "detail": exc.strerror or str(exc)}
            return _invalid(Invalid([Problem((), "plan_output_unwritable", detail)]))
    if args.json:
        print(json.dumps(plan.as_json(), ensure_ascii=False, indent=2))
    else:
        print(render("import_plan", plan=plan, file=args.file, output=args.output))
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    async def upgrade(db: Database) -> str:
        before = await db.revision()
        await db.upgrade()
        after = await db.revision()
        return render("units_db_upgraded", url=display_url(db.url), before=before, after=after)

    return _with_database(upgrade, migrate=False)


def _units_import(args: argparse.Namespace) -> int:
    """Every row is checked before the database is touched: a bad file changes nothing."""
    try:
        campaign_file = args.campaign or Settings.from_env().campaign
        rows = load_units(args.file, load_campaign(campaign_file) if campaign_file else None)
    except Invalid as exc:
        return _invalid(exc)

    async def store(db: Database) -> str:
        result = await unit_ops.import_units(db, rows, source=args.file.name, actor="cli")
        return render("units_imported", file=args.file, result=result)

    return _with_database(store)


def _units_list(args: argparse.Namespace) -> int:
    async def show(db: Database) -> str:
        return render("units_list", listings=await unit_ops.list_units(db))

    return _with_database(show)


def _units_reset_link(args: argparse.Namespace) -> int:
    """End the unit's form links (one was passed around); its chat gets a new one (/nhaplieu)."""
    from bot.ops import unitlinks

    try:
        campaign, key = _served_campaign(Settings.from_env())
    except Invalid as exc:
        return _invalid(exc)

    async def reset(db: Database) -> str:
        unit = await unitlinks.reset(Env(db, campaign, key), args.code, "cli")
        if unit is None:
            raise Invalid([Problem((), "unit_unknown_code", {"code": args.code})])
        return render("units_link_reset", unit=unit)

    return _with_database(reset)


def _serve(args: argparse.Namespace) -> int:
    from bot import service

    try:
        settings = Settings.from_env()
        loa = service.build(settings)
    except Invalid as exc:
        return _invalid(exc)
    logs.setup(settings.secrets(), level=logging.getLevelName(settings.log_level))
    try:
        asyncio.run(service.serve(loa, site=service.Site.of(settings)))
    except DatabaseLost as exc:  # not a setting to fix: the supervisor starts it again
        _invalid(exc)
        return 1
    except Invalid as exc:  # e.g. a token Telegram rejects
        return _invalid(exc)
    except and_migration_errors(OperationalError, InterfaceError) as exc:
        detail = {"url": display_url(loa.db.url), "detail": str(getattr(exc, "orig", None) or exc)}
        print(describe(Problem((), "database_error", detail)), file=sys.stderr)
        return 1
    except Exception:  # through the log handler, which masks the secrets a traceback may quote
        logging.getLogger("loa").exception("loa run stopped on an unexpected error")
        return 1
    return 0


def _export(args: argparse.Namespace) -> int:
    """Write the export next to its destination, then move it there: never half a file, never
    over a file the person named with -o unless --force."""
    try:
        path = args.campaign or Settings.from_env().campaign
        if path is None:
            raise Invalid([Problem(("LOA_CAMPAIGN",), "setting_missing")])
        campaign = load_campaign(path)
        if campaign.form is None:
            raise Invalid([Problem((), "export_no_form", {"file": str(path)})])
        fmt = export_format(args.format, args.output)
    except Invalid as exc:
        return _invalid(exc)

    key = campaign_key(path)
    output: Path = args.output or Path(f"tong-hop-{key}.{fmt}")

    async def write(db: Database) -> str:
        began = time.perf_counter()
        print(render("export_started", output=output), file=sys.stderr)
        export = await gather(Env(db, campaign, key, photos=Settings.from_env().photos))
        try:
            # Loa's own default name is replaced: running an export again should refresh it.
            replace = args.force or args.output is None
            write_whole(output, lambda out: writer(fmt)(export, out), force=replace)
        except OSError as exc:
            why = {"file": str(output), "errno": exc.errno, "detail": exc.strerror or str(exc)}
            raise Invalid([Problem((), "export_unwritable", why)]) from exc
        seconds = time.perf_counter() - began
        return render("export_done", export=export, output=output, seconds=seconds)

    try:
        return _with_database(write)
    except Invalid as exc:
        return _invalid(exc)


def export_format(given: str | None, output: Path | None) -> str:
    """The format `--format` names, else the one `-o`'s extension names, else xlsx; a format the
    file's name contradicts (`--format xlsx -o x.pdf`) is refused, as is a name without one."""
    if output is None:
        return given or "xlsx"
    suffix = output.suffix.lower().lstrip(".")
    if given is not None and suffix and suffix != given:
        raise Invalid(
            [Problem((), "export_suffix_mismatch", {"file": str(output), "format": given})]
        )
    if given is None and suffix not in FORMATS:
        raise Invalid(
            [Problem((), "export_suffix_unknown", {"file": str(output), "suffix": suffix})]
        )
    return given or suffix


def _demo(args: argparse.Namespace) -> int:
    from bot import demo

    try:
        settings = Settings.from_env()
    except Invalid as exc:
        return _invalid(exc)
    logs.setup([], level=logging.ERROR)  # the transcript is the output
    try:
        return asyncio.run(demo.run(sys.stdout, args.seconds, settings, keep=args.keep))
    except Invalid as exc:  # e.g. LOA_WEB_PORT taken
        return _invalid(exc)


def _web_link(args: argparse.Namespace) -> int:
    """Print a one-time sign-in link, as the last line; exit 2 for someone not in LOA_ADMINS."""
    from bot.ops import signin

    try:
        settings = Settings.from_env()
        holder = _coordinator(args.holder, settings.admins)
        campaign, key = _served_campaign(settings)
    except Invalid as exc:
        return _invalid(exc)

    async def issue(db: Database) -> str:
        env = Env(db, campaign, key)
        token = await signin.issue(env, holder)
        return render(
            "web_link",
            holder=holder,
            link=f"{settings.public_url}/login/{token}",
            web=settings.web,
            minutes=int(signin.LINK_LIFETIME.total_seconds() // 60),
            until=(env.clock.now() + signin.LINK_LIFETIME).astimezone(campaign.tz),
        )

    return _with_database(issue)


def _coordinator(given: str, admins: frozenset[str]) -> str:
    """`telegram:123` as LOA_ADMINS has it; `Invalid` when it is not an address or not listed."""
    try:
        holder = str(Address.parse(given.partition("@")[0]))  # as LOA_ADMINS may scope it
    except ValueError:
        raise Invalid([Problem((), "web_link_address", {"value": given})]) from None
    if holder not in admins:
        raise Invalid(
            [Problem((), "web_link_not_coordinator", {"holder": holder, "admins": admins})]
        )
    return holder


def _with_database(work: Callable[[Database], Awaitable[str]], migrate: bool = True) -> int:
    """Run `work` on DATABASE_URL, migrated first so a fresh machine needs no extra step."""
    try:
        db = _database()
    except Invalid as exc:
        return _invalid(exc)

    async def run() -> str:
        check_sqlite(db.url)
        async with db:
            if migrate:
                await db.upgrade()
            return await work(db)

    try:
        print(asyncio.run(run()))
    except and_migration_errors(DBAPIError, sqlite3.Error) as exc:
        # not a database, cannot connect, locked, disk full; or migrated by a newer Loa
        print(describe(database_problem(exc, Settings.from_env().database_url)), file=sys.stderr)
        return 1
    return 0


def _database() -> Database:
    """The database of DATABASE_URL, not yet connected; raises `Invalid` for a URL that cannot
    be used or a SQLite file whose folder cannot be made."""
    url = Settings.from_env().database_url
    try:
        return Database(url)
    except (ArgumentError, InvalidRequestError, ImportError) as exc:  # unusable URL or driver
        raise Invalid([url_problem(exc)]) from None
    except OSError as exc:
        raise Invalid([folder_problem(exc, url)]) from None


def _invalid(exc: Invalid) -> int:
    for problem in exc.problems:
        print(describe(problem), file=sys.stderr)
    return INVALID


if __name__ == "__main__":
    sys.exit(main())


def _served_campaign(settings: Settings) -> tuple[Campaign, str]:
    """`LOA_CAMPAIGN`'s campaign and its key, as `loa run` serves it; Invalid without one."""

    if settings.campaign is None:
        raise Invalid([Problem(("LOA_CAMPAIGN",), "setting_missing")])
    return load_campaign(settings.campaign), campaign_key(settings.campaign)
