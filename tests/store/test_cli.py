"""`loa db upgrade`, `loa units import`, `loa units list`, driven in-process on a test database.

The CLI runs its own event loop (`asyncio.run`), so async tests call it from a worker thread.
"""

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.cli import main
from bot.store import answers
from bot.store.models import AuditEntry, Chat, Unit
from tests.conftest import SCHEDULES
from tests.store.test_db import HEAD

CAMPAIGN = SCHEDULES / "2023-lac-thuy.yaml"
LAC_THUY = SCHEDULES / "units" / "lac-thuy.csv"


@pytest.fixture
def env(monkeypatch, tmp_path):
    """A clean environment in an empty folder (no `.env`); returns a setter for DATABASE_URL."""
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "LOA_CAMPAIGN", "LOA_ADMINS"):
        monkeypatch.delenv(name, raising=False)
    return lambda url: monkeypatch.setenv("DATABASE_URL", url)


async def loa(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def count(db, model) -> int:
    async with db.session() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_import_prints_counts_and_records_an_audit_entry(db, env, capsys):
    env(db.url)
    assert await loa("units", "import", str(LAC_THUY), "--campaign", str(CAMPAIGN)) == 0
    assert "6 đơn vị mới, 0 đơn vị cập nhật, 0 đơn vị không đổi" in capsys.readouterr().out
    assert await loa("units", "import", str(LAC_THUY)) == 0
    assert "0 đơn vị mới, 0 đơn vị cập nhật, 6 đơn vị không đổi" in capsys.readouterr().out
    async with db.session() as session:
        entries = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    assert [(e.actor, e.action) for e in entries] == [("cli", "units_import")] * 2
    assert entries[0].detail == {"file": "lac-thuy.csv", "created": 6, "updated": 0, "unchanged": 0}
    assert await count(db, Unit) == 6


async def test_a_malformed_csv_exits_2_naming_every_line_and_writes_nothing(
    db, env, tmp_path, capsys
):
    env(db.url)
    bad = tmp_path / "units.csv"
    bad.write_text(
        "code,name,type,parent\n"
        "th-a,Trường TH A,truong-hoc,xã A\n"
        "th-b,,truong-hoc,xã B\n"
        "p-1,UBND phường 1,phuong,\n",
        encoding="utf-8",
    )
    assert await loa("units", "import", str(bad), "--campaign", str(CAMPAIGN)) == 2
    errors = capsys.readouterr().err.splitlines()
    assert errors == [
        f"{bad}:3: thiếu giá trị: name",
        f"{bad}:4: loại đơn vị “phuong” không có trong audiences của chiến dịch"
        " (đã có: truong-hoc, tthtcd)",
    ]
    assert await count(db, Unit) == 0
    assert await count(db, AuditEntry) == 0


async def test_types_are_checked_against_loa_campaign(db, env, tmp_path, monkeypatch, capsys):
    env(db.url)
    monkeypatch.setenv("LOA_CAMPAIGN", str(CAMPAIGN))
    bad = tmp_path / "units.csv"
    bad.write_text("code,name,type\np-1,UBND phường 1,phuong\n", encoding="utf-8")
    assert await loa("units", "import", str(bad)) == 2
    assert f"{bad}:2: loại đơn vị “phuong”" in capsys.readouterr().err


async def test_area_is_imported_as_parent(db, env, tmp_path):
    env(db.url)
    csv = tmp_path / "units.csv"
    csv.write_text("code,name,type,area\nth-a,Trường TH A,truong-hoc,xã A\n", encoding="utf-8")
    assert await loa("units", "import", str(csv)) == 0
    async with db.session() as session:
        assert await session.scalar(select(Unit.parent)) == "xã A"


async def test_list_shows_codes_and_registered_and_unregistered_chats(db, env, capsys):
    env(db.url)
    assert await loa("units", "import", str(LAC_THUY)) == 0
    async with db.session() as session, session.begin():
        thcs = await session.scalar(select(Unit).where(Unit.code == "thcs-chi-ne"))
        session.add_all(
            [
                Chat(
                    platform="telegram",
                    external_id="-1001",
                    kind="group",
                    title="Nhóm THCS Chi Nê",
                    unit_id=thcs.id,
                ),
                Chat(
                    platform="zalo",
                    external_id="abc",
                    kind="private",
                    title="Cô Hạnh",
                    unit_id=thcs.id,
                    active=False,
                ),
            ]
        )
        codes = {u.code: u.registration_code for u in await session.scalars(select(Unit))}
    capsys.readouterr()
    assert await loa("units", "list") == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "6 đơn vị, 1 đơn vị đã đăng ký nhóm chat đang hoạt động."
    [thcs_line] = [line for line in lines if line.startswith("thcs-chi-ne ")]
    assert codes["thcs-chi-ne"] in thcs_line
    assert thcs_line.endswith("telegram: Nhóm THCS Chi Nê")
    following = lines[lines.index(thcs_line) + 1]
    assert following.strip() == "zalo: Cô Hạnh (chat riêng, không còn hoạt động)"
    [th_line] = [line for line in lines if line.startswith("th-chi-ne ")]
    assert "Trường Tiểu học Chi Nê" in th_line and codes["th-chi-ne"] in th_line
    assert th_line.endswith("chưa đăng ký")
    assert "/dangky" in out


async def test_list_of_no_units_says_how_to_import(db, env, capsys):
    env(db.url)
    assert await loa("units", "list") == 0
    assert "Chưa có đơn vị nào" in capsys.readouterr().out


def test_db_upgrade_on_a_fresh_path(env, tmp_path, capsys):
    path = tmp_path / "new" / "folder" / "loa.db"
    env(f"sqlite:///{path}")
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out.strip() == (
        f"Đã cập nhật cơ sở dữ liệu {path}: phiên bản trống → {HEAD}."
    )
    assert path.is_file()
    assert main(["db", "upgrade"]) == 0
    assert f"đã ở phiên bản mới nhất ({HEAD})" in capsys.readouterr().out


def test_units_list_on_the_default_database_creates_it(env, tmp_path, capsys):
    assert main(["units", "list"]) == 0
    assert (tmp_path / "var" / "loa.db").is_file()


def test_an_unreachable_database_is_reported_without_its_password(env, capsys):
    env("postgresql://loa:s3cret@127.0.0.1:1/loa")
    assert main(["db", "upgrade"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "DATABASE_URL: không kết nối được máy chủ cơ sở dữ liệu postgresql://loa:***@127.0.0.1:1/loa: "
    )
    assert "s3cret" not in err


@pytest.mark.parametrize("url", ["mysql://h/loa", "sqlite+pysqlite:///x.db", "not a url"])
def test_an_unusable_database_url_exits_2(env, url, capsys):
    env(url)
    assert main(["units", "list"]) == 2
    assert capsys.readouterr().err.startswith("DATABASE_URL: không dùng được")


def test_an_unreadable_csv_exits_2(env, tmp_path: Path, capsys):
    env(f"sqlite:///{tmp_path / 'loa.db'}")
    assert main(["units", "import", str(tmp_path / "missing.csv")]) == 2
    assert capsys.readouterr().err.startswith(f"{tmp_path / 'missing.csv'}:1: không đọc được tệp")
    assert not (tmp_path / "loa.db").exists()


def test_a_database_from_a_newer_loa_is_reported(env, tmp_path, capsys):
    path = tmp_path / "loa.db"
    env(f"sqlite:///{path}")
    assert main(["db", "upgrade"]) == 0
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    connection.close()
    assert main(["units", "list"]) == 1
    assert "9999" in capsys.readouterr().err


async def test_export_writes_each_format_from_the_stored_answers(db, env, capsys, tmp_path):
    env(db.url)
    assert await loa("units", "import", str(LAC_THUY), "--campaign", str(CAMPAIGN)) == 0
    async with db.session() as session, session.begin():
        unit = await session.scalar(select(Unit).where(Unit.code == "thcs-chi-ne"))
        await answers.record(
            session, "2023-lac-thuy", unit.id, "1.2", (3, 120),
            raw="3/120", chat_id=None, author="telegram:1", at=dt.datetime.now(dt.UTC),
        )  # fmt: skip
    capsys.readouterr()
    for fmt in ("xlsx", "csv", "docx"):
        out = tmp_path / f"bang.{fmt}"
        assert (
            await loa("export", "--format", fmt, "-o", str(out), "--campaign", str(CAMPAIGN)) == 0
        )
        assert out.stat().st_size > 0
    printed = capsys.readouterr()
    assert (
        "Đã xuất" in printed.out
        and "6 đơn vị (0 đủ số liệu, 1 đang nhập, 5 chưa gửi)" in printed.out
    )
    assert "Đang đọc số liệu" in printed.err  # progress goes to stderr
    book = load_workbook(tmp_path / "bang.xlsx")
    assert book["thcs-chi-ne"]["D9"].value == 3 and book["Tổng hợp"]["E9"].value == 120


async def test_export_refuses_what_it_cannot_do_and_leaves_no_half_file(db, env, capsys, tmp_path):
    env(db.url)
    no_form = tmp_path / "no-form.yaml"  # a campaign that asks for no figures
    no_form.write_text(CAMPAIGN.read_text(encoding="utf-8") + "\nform: null\n", encoding="utf-8")
    assert await loa("export", "-o", str(tmp_path / "x.xlsx"), "--campaign", str(no_form)) == 2
    assert "không có mẫu tổng hợp số liệu" in capsys.readouterr().err
    assert await loa("export", "-o", str(tmp_path / "x.xlsx")) == 2  # no LOA_CAMPAIGN either
    assert "LOA_CAMPAIGN" in capsys.readouterr().err
    missing = tmp_path / "no" / "such" / "x.xlsx"
    assert await loa("export", "-o", str(missing), "--campaign", str(CAMPAIGN)) == 2
    assert "không có thư mục này" in capsys.readouterr().err
    assert not any(tmp_path.glob("**/*.part"))
