"""The console's roster of units (chats, figures status, search and filters) and a units file
uploaded to it."""

import io

from openpyxl import Workbook
from sqlalchemy import event, func, select

from bot.campaign.units import Unit as CsvUnit
from bot.ops import figures, units
from bot.ops.progress import progress
from bot.ops.units import EMPTY, NOT_A_TABLE, ChatState, Filter, fold
from bot.stats.table import Completion, answerable
from bot.store.models import AuditEntry, Unit
from tests.ops.support import bound, environment, with_units


async def test_the_roster_has_each_unit_its_chats_and_figures_in_three_queries(db):
    env = environment(db)
    await with_units(env, ("th-b", "truong-hoc"), ("th-a", "truong-hoc"), ("tt-c", "tthtcd"))
    await with_units(env, ("xa-d", "tthtcd"))
    a = await bound(env, "th-a", "-1001")
    await bound(env, "th-b", "-1002", active=False)  # the bot was removed from it
    c = await bound(env, "tt-c", "-1003")
    items = [row.code for row in answerable(env.campaign.form)]
    await figures.record(env, a, [("1.1", "160")], "telegram:1")
    await figures.record(env, a, [("1.1", "170")], "telegram:1")  # a correction counts once
    await figures.record(env, c, [(code, "không") for code in items], "telegram:3")
    statements = []

    def counted(*args):
        statements.append(args[2])

    event.listen(db.engine.sync_engine, "before_cursor_execute", counted)
    try:
        found = await units.roster(env)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", counted)

    assert len(statements) == 3
    assert [unit.code for unit in found] == ["th-a", "th-b", "tt-c", "xa-d"]
    a, b, c, d = found
    assert a.chats == (ChatState("telegram", "group", "Nhóm th-a", True),)
    assert (a.registered, b.registered, c.registered, d.registered) == (True, False, True, False)
    assert b.chats[0].active is False and d.chats == ()
    assert [unit.figures for unit in found] == [
        Completion.PARTIAL,
        Completion.SILENT,
        Completion.COMPLETE,
        Completion.SILENT,
    ]
    # the same statuses as the overview's, which reads every answer
    standing = (await progress(env)).figures
    assert [standing[unit.id].completion for unit in found] == [u.figures for u in found]
    assert a.registration_code != b.registration_code and len(a.registration_code) == 11


async def test_without_a_form_there_is_no_figures_status(db):
    env = environment(db)
    env = type(env)(env.db, env.campaign.model_copy(update={"form": None}), env.campaign_key)
    await with_units(env, ("th-a", "truong-hoc"))
    assert [unit.figures for unit in await units.roster(env)] == [None]
    assert await units.completions(env) == {}


def test_search_ignores_accents_case_and_the_letter_đ():
    assert fold("  Trường Mầm non LẠC THỦY ") == "truong mam non lac thuy"
    assert fold("Xã Đồng Tâm, đội 3") == "xa dong tam, doi 3"
    assert fold("Lạc Thủy") == fold("Lạc Thủy")  # composed or not, as a phone may send it


async def test_filters_keep_what_every_condition_names(db):
    env = environment(db)
    rows = [
        CsvUnit("th-lt", "Trường Tiểu học Lạc Thủy", "truong-hoc", "Xã Đồng Tâm"),
        CsvUnit("th-dt", "Trường Tiểu học Đồng Tâm", "truong-hoc", "Xã Đồng Tâm"),
        CsvUnit("tt-lt", "TTHTCĐ thị trấn Chi Nê", "tthtcd", "Thị trấn Chi Nê"),
    ]
    await units.import_units(env.db, rows, "units.csv", "test")
    await bound(env, "tt-lt", "-1001")
    found = await units.roster(env)

    def codes(chosen):
        return [unit.code for unit in chosen.keep(found)]

    assert codes(Filter()) == ["th-dt", "th-lt", "tt-lt"]
    assert codes(Filter(search="lac thuy")) == ["th-lt"]
    assert codes(Filter(search="DONG tam")) == ["th-dt"]  # the name, not the parent
    assert codes(Filter(search="tieu hoc")) == ["th-dt", "th-lt"]
    assert codes(Filter(search="TT-LT")) == ["tt-lt"]
    registration = found[0].registration_code
    assert codes(Filter(search=registration.lower())) == ["th-dt"]
    assert codes(Filter(type="tthtcd")) == ["tt-lt"]
    assert codes(Filter(parent="Xã Đồng Tâm")) == ["th-dt", "th-lt"]
    assert codes(Filter(registered=True)) == ["tt-lt"]
    assert codes(Filter(registered=False, search="lac")) == ["th-lt"]
    assert codes(Filter(figures=Completion.SILENT, type="truong-hoc")) == ["th-dt", "th-lt"]
    assert codes(Filter(figures=Completion.COMPLETE)) == []


# -- uploads -----------------------------------------------------------------------------------

GOOD = "code,name,type,parent\nth-a,Trường A,truong-hoc,Xã Đồng Tâm\ntt-b,TTHTCĐ B,tthtcd,\n"


async def audit_entries(db):
    async with db.session() as session:
        return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


async def unit_count(db):
    async with db.session() as session:
        return await session.scalar(select(func.count()).select_from(Unit))


async def test_an_uploaded_csv_is_imported_and_audited_with_who_sent_it(db):
    env = environment(db)
    done = await units.import_upload(env, GOOD.encode(), "C:\\Users\\me\\don-vi.csv", "zalo:9")
    assert done.file == "don-vi.csv" and not done.problems and done.refused is None
    assert (done.result.created, done.result.updated, done.result.unchanged) == (2, 0, 0)
    again = GOOD.replace("Trường A", "Trường Tiểu học A").encode("utf-8-sig")  # Excel's CSV UTF-8
    done = await units.import_upload(env, again, "don-vi.csv", "zalo:9")
    assert (done.result.created, done.result.updated, done.result.unchanged) == (0, 1, 1)
    [first, second] = await audit_entries(db)
    assert (first.actor, first.action) == ("zalo:9", "units_import")
    assert first.detail == {"file": "don-vi.csv", "created": 2, "updated": 0, "unchanged": 0}
    assert second.detail["updated"] == 1


async def test_an_uploaded_workbook_is_read_like_the_command_lines(db):
    env = environment(db)
    book = Workbook()
    sheet = book.active
    for row in [("code", "name", "type", "area"), ("th-a", "Trường A", "truong-hoc", "Xã B")]:
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    done = await units.import_upload(env, data.getvalue(), "don-vi.xlsx", "zalo:9")
    assert done.result.created == 1
    [unit] = await units.roster(env)
    assert (unit.code, unit.parent) == ("th-a", "Xã B")


async def test_a_file_with_problems_writes_nothing_and_names_each_line(db):
    env = environment(db)
    bad = (
        "code,name,type\n"
        "th-a,Trường A,truong-hoc\n"
        "=cmd,Trường B,truong-hoc\n"
        "th-c,Trường C,truong-hoc\n"
        "th-d,Trường D,dai-hoc\n"
    )
    done = await units.import_upload(env, bad.encode(), "don-vi.csv", "zalo:9")
    assert done.result is None
    assert [(p.line, p.code, p.file) for p in done.problems] == [
        (3, "units_code_format", "don-vi.csv"),
        (5, "units_type_unknown", "don-vi.csv"),
    ]
    assert await unit_count(db) == 0 and await audit_entries(db) == []


async def test_empty_binary_and_old_excel_files_are_refused(db):
    env = environment(db)
    assert (await units.import_upload(env, b"", "a.csv", "zalo:9")).refused == EMPTY
    assert (await units.import_upload(env, b" \r\n\n", "a.csv", "zalo:9")).refused == EMPTY
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(100)
    assert (await units.import_upload(env, png, "anh.png", "zalo:9")).refused == NOT_A_TABLE
    old = await units.import_upload(env, b"\xd0\xcf\x11\xe0" + bytes(600), "a.xls", "zalo:9")
    assert [p.code for p in old.problems] == ["units_xls"]
    header_only = await units.import_upload(env, b"ma,ten\n1,2\n", "a.csv", "zalo:9")
    assert [p.code for p in header_only.problems] == ["units_header"]
    utf16 = GOOD.encode("utf-16")  # NUL bytes, but text that says so
    assert (await units.import_upload(env, utf16, "a.txt", "zalo:9")).result.created == 2
