"""`loa preview --status`: each delivery of the campaign with how it went, from the outbox."""

import asyncio
import datetime as dt
import json

from bot.cli import main
from bot.store.db import Database
from bot.store.models import Chat, Delivery, Unit
from tests.conftest import SCHEDULES, SEEDS

VN = dt.timezone(dt.timedelta(hours=7))
CAMPAIGN = SCHEDULES / SEEDS["lac-thuy"]


async def outbox_with(url: str, statuses: dict[str, str]) -> None:
    async with Database(url) as db:
        await db.upgrade()
        async with db.session() as session, session.begin():
            unit = Unit(code="a", name="A", type="truong-hoc", registration_code="AAAAAA")
            session.add(unit)
            await session.flush()
            for number, status in enumerate(statuses.values()):
                chat = Chat(
                    platform="telegram", external_id=f"-{number}", kind="group", unit_id=unit.id
                )
                session.add(chat)
                await session.flush()
                for reference, row_status in statuses.items():
                    if row_status != status:
                        continue
                    session.add(
                        Delivery(
                            key=f"2023-lac-thuy:week_start:{reference}:{chat.id}",
                            campaign="2023-lac-thuy",
                            kind="week_start",
                            reference="week",
                            chat_id=chat.id,
                            due_at=dt.datetime(2023, 10, 2, 7, tzinfo=VN),
                            status=row_status,
                        )
                    )


def test_preview_status_counts_each_delivery_over_its_chats(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'loa.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    asyncio.run(outbox_with(url, {"one": "sent", "two": "missed"}))

    assert main(["preview", str(CAMPAIGN), "--status", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    [week_start] = [r for r in rows if r["kind"] == "week_start"]
    assert week_start["status"] == {"sent": 1, "missed": 1}
    assert all(r["status"] == {} for r in rows if r["kind"] != "week_start")

    assert main(["preview", str(CAMPAIGN), "--status"]) == 0
    table = capsys.readouterr().out
    assert "[đã gửi 1, bỏ lỡ 1]" in table and "[chưa có]" in table


def test_preview_without_status_needs_no_database(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    assert main(["preview", str(CAMPAIGN)]) == 0
    out = capsys.readouterr().out
    assert "[chưa có]" not in out and "đã gửi" not in out


def test_preview_status_on_a_database_never_served_changes_nothing(tmp_path, monkeypatch, capsys):
    path = tmp_path / "loa.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    assert main(["preview", str(CAMPAIGN), "--status"]) == 0
    assert "[chưa có]" in capsys.readouterr().out
    assert asyncio.run(revision(f"sqlite:///{path}")) is None  # read, not migrated


async def revision(url: str) -> str | None:
    async with Database(url) as db:
        return await db.revision()


def test_the_status_table_has_one_line_per_delivery(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'loa.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    asyncio.run(outbox_with(url, {"one": "sent"}))
    assert main(["preview", str(CAMPAIGN), "--status"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = lines[lines.index(next(x for x in lines if x.startswith("Thời điểm"))) + 1 :]
    assert len(rows) == 19
    assert all(row.endswith("]") for row in rows)
    assert sum(row.endswith("[đã gửi 1]") for row in rows) == 1
