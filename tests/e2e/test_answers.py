"""Figures through the sandbox: the form goes out in parts, units answer by replying to a part,
by `MÃ: SỐ` lines or through /baocao's questions, correct with /sua, and each answer lands in
the database for the chat's own unit only. The clock stands on 09/10/2023, when the Lạc Thủy
report window is open (the week ended on 08/10, the report is due before 12/10)."""

import datetime as dt
import io

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import select

from bot.store import answers
from bot.store.models import Answer, Unit
from tests.e2e.conftest import VN, FixedClock

FORM_PARTS = 11


@pytest.fixture
def clock():
    return FixedClock(dt.datetime(2023, 10, 9, 9, 0, tzinfo=VN))


async def form_of(world, chat: int) -> dict[int, dict]:
    """Wait for the 11 parts of the form in the chat: part number -> message."""
    for _ in range(3):
        sent = world.sandbox.sent(chat)
        parts = {
            int(m["text"].split("phần ", 1)[1].split("/", 1)[0]): m
            for m in sent
            if "📝 Số liệu Tuần lễ, phần" in m.get("text", "")
        }
        if len(parts) == FORM_PARTS:
            return parts
        await world.sandbox.wait_sent(chat, len(sent) + FORM_PARTS - len(parts), timeout=10)
    raise AssertionError("the form did not arrive")


async def reply(person, chat: int, to: dict, text: str) -> str:
    """Reply to a bot message and return the bot's next message in the chat."""
    before = len(person.sandbox.sent(chat))
    await person.says(chat, text, reply_to=to["message_id"])
    return (await person.sandbox.wait_sent(chat, before + 1))[before]["text"]


async def last_message(world, chat: int) -> dict:
    return world.sandbox.sent(chat)[-1]


async def stored(world, unit_code: str) -> dict[str, object]:
    async with world.db.session() as session:
        unit = await session.scalar(select(Unit).where(Unit.code == unit_code))
        return await answers.values(session, world.loa.campaign_key, unit.id)


async def test_a_school_answers_by_replying_to_the_parts_of_the_form(world):
    principal = world.person("Thầy Hùng")
    group = await world.group("Trường TH Chi Nê", admins=(principal,))
    await world.register(group, "th-chi-ne", principal)
    parts = await form_of(world, group)
    assert "1.2. Bồi dưỡng nâng cao trình độ chuyên môn" in parts[1]["text"]

    ack = await reply(
        principal, group, parts[1], "1: 5\n1.1: 200\n1.2: 3 lớp, 120 người\n1.3: -2\n9.9: 1"
    )
    assert "✅ Đã ghi:" in ack and "1.2. Bồi dưỡng nâng cao trình độ" in ack
    assert "3 lớp, 120 người" in ack
    assert "❌ Mục 1.3 “-2”: số liệu không được âm." in ack
    assert "❌ Không có mục 9.9 trong mẫu số liệu" in ack
    assert "Còn thiếu 34/37 mục (1.3, 1.4," in ack

    ack = await reply(principal, group, parts[2], "12")  # a part with one row: a bare figure
    assert "2. Số tin bài về các hoạt động của Tuần lễ: 12" in ack

    ack = await reply(principal, group, parts[4], "4")  # several rows: codes are needed
    assert "hãy ghi mỗi dòng một mục dạng MÃ: SỐ" in ack and "4.1: 3/120" in ack

    before = len(world.sandbox.sent(group))
    await principal.says(group, "10.1: 2 triệu\n10.2: 500", reply_to=parts[10]["message_id"])
    ack, check = (await world.sandbox.wait_sent(group, before + 2))[before:]
    assert "10.1. Ngân sách nhà nước: 2.000.000 đồng" in ack["text"]
    assert check["text"].startswith("⚠️ Mục 10.2: 500 đồng? Số tiền dưới 1.000 đồng")
    assert "10.2" not in await stored(world, "th-chi-ne")  # not before it is confirmed
    ack = await reply(principal, group, check, "đúng")
    assert "10.2. Kinh phí hỗ trợ" in ack and "500 đồng" in ack

    ack = await principal.asks(group, "/sua 1.2 4/130")
    assert "4 lớp, 130 người (trước đây: 3 lớp, 120 người)" in ack

    assert await stored(world, "th-chi-ne") == {
        "1": (5,),
        "1.1": (200,),
        "1.2": (4, 130),
        "2": (12,),
        "10.1": (2_000_000,),
        "10.2": (500,),
    }
    async with world.db.session() as session:
        history = await session.scalars(
            select(Answer).where(Answer.item == "1.2").order_by(Answer.id)
        )
        old, new = history
    assert (old.value, old.raw, old.replaced_at is not None) == ([3, 120], "3 lớp, 120 người", True)
    assert (new.value, new.replaced_at, new.author) == ([4, 130], None, f"telegram:{principal.id}")


async def test_a_centre_answers_with_code_lines_and_baocao_questions_in_a_private_chat(world):
    director = world.person("Bà Hoa")
    chat = director.id
    await world.sandbox.post(chat, director.id, "/start")
    await world.sandbox.wait_sent(chat, 1)
    await world.register(chat, "tthtcd-an-binh", director)
    await form_of(world, chat)

    ack = await director.asks(chat, "1.2: 3/120\n2 = 5")  # no reply needed in a private chat
    assert "✅ Đã ghi:" in ack and "3 lớp, 120 người" in ack and ": 5" in ack

    question = await director.asks(chat, "/baocao")
    assert question.startswith("📝 Mục 1: Các lớp bồi dưỡng, tập huấn")
    assert "(Đơn vị còn 35 mục chưa có số liệu.)" in question
    ack = await director.asks(chat, "7")  # a bare figure answers the question just asked
    assert "1. Các lớp bồi dưỡng, tập huấn tổ chức trong Tuần lễ: 7" in ack
    assert "📝 Mục 1.1: Tổng số người tham gia\n" in ack  # and the next one is asked

    refused = await director.asks(chat, "mười hai")
    assert refused.startswith("❌ Mục 1.1 “mười hai”: Loa chưa đọc được số. Cần một số (người)")
    refused = await director.asks(chat, "3/120")
    assert "mục này chỉ cần một số" in refused
    ack = await director.asks(chat, "1.500")
    assert "1.1. Tổng số người tham gia: 1.500" in ack

    view = await director.asks(chat, "/xem")
    assert "📋 Số liệu của Trung tâm học tập cộng đồng xã An Bình: 4/37 mục" in view
    assert "✅ 1.2. Bồi dưỡng nâng cao trình độ chuyên môn" in view
    assert "⬜ 1.3." in view

    assert await stored(world, "tthtcd-an-binh") == {
        "1": (7,),
        "1.1": (1500,),
        "1.2": (3, 120),
        "2": (5,),
    }


async def test_a_chat_answers_only_for_its_own_unit(world):
    principal = world.person("Thầy Hùng")
    stranger = world.person("Người lạ")
    school = await world.group("Trường TH Chi Nê", admins=(principal,))
    await world.register(school, "th-chi-ne", principal)
    parts = await form_of(world, school)
    other = await world.group("Nhóm chưa đăng ký", stranger, admins=(stranger,))
    greeting = await last_message(world, other)

    # an unregistered group replying to the bot with figures: recorded for nobody
    answer = await reply(stranger, other, greeting, "1.2: 3/120")
    assert answer == "Nhóm này chưa đăng ký cho đơn vị nào."
    # once the school's group is unregistered, replies to its old prompts count no more
    await principal.asks(school, "/huydangky")
    answer = await reply(principal, school, parts[2], "12")
    assert "✅" not in answer
    async with world.db.session() as session:
        assert list(await session.scalars(select(Answer))) == []
    # /sua and /baocao need a registered chat too
    assert await stranger.asks(other, "/sua 1.2 3/120") == "Nhóm này chưa đăng ký cho đơn vị nào."
    assert await stranger.asks(other, "/baocao") == "Nhóm này chưa đăng ký cho đơn vị nào."


async def test_sua_and_baocao_explain_their_use(world):
    groups = await world.registered_groups("thcs-chi-ne")
    group = groups["thcs-chi-ne"]
    await form_of(world, group)
    principal = world.person("Cô Mai")
    assert (await principal.asks(group, "/sua")).startswith("Cách sửa: /sua MÃ SỐ")
    assert (await principal.asks(group, "/sua 1.2")).startswith("Cách sửa: /sua MÃ SỐ")
    assert "Không có mục 12.5 trong mẫu số liệu" in await principal.asks(group, "/sua 12.5 3")
    assert "Mục 4 là tiêu đề, không cần số" in await principal.asks(group, "/sua 4 3")
    assert "Mục 4 là tiêu đề" in await principal.asks(group, "/baocao 4")
    asked = await principal.asks(group, "/baocao 10.1")
    assert asked.startswith("📝 Mục 10.1: Ngân sách nhà nước")
    assert "“1.500.000” hoặc “2 triệu”" in asked


async def test_reminders_go_only_to_units_missing_figures_and_name_what_is_missing(world):
    groups = await world.registered_groups("th-chi-ne", "thcs-chi-ne", "mn-an-binh")
    parts = {code: await form_of(world, chat) for code, chat in groups.items()}
    complete = world.loa.campaign.form
    async with world.db.session() as session, session.begin():  # one school sent everything
        unit = await session.scalar(select(Unit).where(Unit.code == "th-chi-ne"))
        for row in complete.rows():
            if row.answer is not None:
                value = "Ngày hội đọc sách" if row.answer == "text" else (1,) * len(row.parts())
                await answers.record(
                    session, "lac-thuy-2023", unit.id, row.code, value or (1,),
                    raw="1", chat_id=None, author="test", at=world.loa.clock.now(),
                )  # fmt: skip
    principal = world.person("Cô Mai")
    await reply(principal, groups["thcs-chi-ne"], parts["thcs-chi-ne"][1], "1.2: 3/120")
    before = {code: len(world.sandbox.sent(chat)) for code, chat in groups.items()}

    world.loa.clock.at = dt.datetime(2023, 10, 10, 7, 5, tzinfo=VN)  # "còn 1 ngày" is due
    await world.loa.dispatcher.send_due()

    new = {code: [m["text"] for m in world.sandbox.sent(chat)[before[code] :]] for code, chat in groups.items()}  # fmt: skip
    assert new["th-chi-ne"] == []
    [partial] = new["thcs-chi-ne"]
    assert "Còn 1 ngày." in partial
    assert "📝 Đơn vị còn thiếu 36 mục số liệu (1, 1.1, 1.3, 1.4," in partial
    [silent] = new["mn-an-binh"]
    assert "📝 Đơn vị còn thiếu 37 mục số liệu" in silent

    progress = await world.coordinator.asks(world.coordinator.id, "/tiendo")
    assert "📝 Số liệu (37 mục mỗi đơn vị): 1 đủ, 1 đang nhập, 4 chưa gửi." in progress
    assert "• TT Chi Nê: 2/2 · 📝 1/1/0\n• xã An Bình: 1/2 · 📝 0/0/2" in progress
    chi_ne = await world.coordinator.asks(world.coordinator.id, "/tiendo TT Chi Nê")
    assert (
        "Trường Tiểu học Chi Nê (th-chi-ne): nhóm “Nhóm th-chi-ne” (Telegram) · 📝 đủ số liệu"
        in chi_ne
    )
    assert "(thcs-chi-ne): nhóm “Nhóm thcs-chi-ne” (Telegram) · 📝 1/37 mục" in chi_ne
    khoan_du = await world.coordinator.asks(world.coordinator.id, "/tiendo Khoan Dụ")
    assert "Trường THCS Khoan Dụ (thcs-khoan-du): chưa đăng ký · 📝 chưa gửi số liệu" in khoan_du


async def test_two_units_answer_and_the_coordinator_gets_the_table_in_chat(world):
    principal, director = world.person("Thầy Hùng"), world.person("Bà Hoa")
    school = await world.group("Trường TH Chi Nê", admins=(principal,))
    await world.register(school, "th-chi-ne", principal)
    await world.sandbox.post(director.id, director.id, "/start")
    await world.sandbox.wait_sent(director.id, 1)
    await world.register(director.id, "tthtcd-an-binh", director)
    parts = await form_of(world, school)
    await form_of(world, director.id)

    # the school replies to the parts of the form, with a refused figure and a correction
    await reply(principal, school, parts[1], "1: 5\n1.1: 200\n1.2: 3 lớp, 120 người\n1.3: 2,5")
    await reply(principal, school, parts[1], "1.2: 4/150")
    await reply(principal, school, parts[11], "Ngày hội đọc sách")
    # the centre writes code lines in its private chat, one of them wrong, then corrects it
    await director.asks(director.id, "1: 2\n1.2: 1/30\n10.1: 2 triệu\n4.2 = abc")
    await director.asks(director.id, "/sua 4.2 120")

    before = len(world.sandbox.sent(world.coordinator.id))
    await world.coordinator.says(world.coordinator.id, "/xuat")
    started, table = (await world.sandbox.wait_sent(world.coordinator.id, before + 2))[before:]
    assert started["text"].startswith("⏳ Loa đang tổng hợp số liệu")
    assert table["document"]["file_name"] == "tong-hop-lac-thuy-2023.xlsx"
    assert "6 đơn vị (0 đủ số liệu, 2 đang nhập, 4 chưa gửi)" in table["caption"]

    book = load_workbook(io.BytesIO(table["sandbox"]["file_bytes"]))
    assert book.sheetnames == [
        "Tổng hợp", "TT Chi Nê", "xã An Bình", "xã Khoan Dụ", "xã Đồng Tâm", "th-chi-ne", "thcs-chi-ne", "mn-an-binh", "thcs-khoan-du", "tthtcd-an-binh",
        "tthtcd-dong-tam",
    ]  # fmt: skip
    totals, school_sheet = book["Tổng hợp"], book["th-chi-ne"]
    form = world.loa.campaign.form
    assert [r[0] for r in totals.iter_rows(min_row=7, max_col=1, values_only=True)] == [
        row.code for row in form.rows()
    ]  # every row of the official table, in its order, sections included
    assert totals["A5"].value == "STT" and totals["D6"].value == "Số lớp/số cuộc thi"
    line = {row.code: 7 + index for index, row in enumerate(form.rows())}

    def cells(sheet, code):
        return tuple(sheet.cell(line[code], column).value for column in (4, 5, 6))

    assert school_sheet["A3"].value == "Đơn vị: Trường Tiểu học Chi Nê (th-chi-ne)"
    assert cells(school_sheet, "1.2") == (4, 150, None)  # the corrected figures
    assert cells(school_sheet, "1.3") == (None, None, None)  # refused, so still missing
    assert cells(school_sheet, "11") == (None, None, "Ngày hội đọc sách")
    assert cells(book["tthtcd-an-binh"], "4.2") == (120, None, None)
    assert cells(totals, "1") == (7, None, None)
    assert cells(totals, "1.1") == (None, 200, None)  # people go under "Người"
    assert cells(totals, "1.2") == (5, 180, None)
    assert cells(totals, "10.1") == (2_000_000, None, None)
    assert cells(totals, "11") == (None, None, "Trường Tiểu học Chi Nê: Ngày hội đọc sách")
    assert cells(totals, "1.4") == (None, None, None)  # nobody answered: empty, not 0


async def test_xuat_is_for_coordinators_and_knows_its_formats(world):
    groups = await world.registered_groups("th-chi-ne")
    await form_of(world, groups["th-chi-ne"])
    principal = world.person("Thầy Hùng")
    refused = await principal.asks(groups["th-chi-ne"], "/xuat")
    assert "chỉ dành cho cán bộ điều phối" in refused
    usage = await world.coordinator.asks(world.coordinator.id, "/xuat pdf")
    assert usage.startswith("Cách dùng: /xuat (bảng Excel)")
    before = len(world.sandbox.sent(world.coordinator.id))
    await world.coordinator.says(world.coordinator.id, "/xuat docx")
    _, report = (await world.sandbox.wait_sent(world.coordinator.id, before + 2))[before:]
    document = Document(io.BytesIO(report["sandbox"]["file_bytes"]))
    texts = [p.text for p in document.paragraphs]
    assert "BÁO CÁO" in texts and "I. TỔ CHỨC TRIỂN KHAI TUẦN LỄ" in texts
    assert (
        "4. Bảng tổng hợp số liệu các hoạt động tổ chức Tuần lễ (thống kê theo Mẫu tổng hợp)"
        in texts
    )


async def test_a_read_back_confirms_all_it_shows_and_never_a_figure_sent_since(world):
    director = world.person("Bà Hoa")
    chat = director.id
    await world.sandbox.post(chat, director.id, "/start")
    await world.sandbox.wait_sent(chat, 1)
    await world.register(chat, "tthtcd-an-binh", director)
    await form_of(world, chat)

    check = await director.asks(chat, "10.1: 5 tỷ\n10.2: 500")  # two unusual figures, one read-back
    assert "⚠️ Mục 10.1: 5.000.000.000 đồng?" in check and "⚠️ Mục 10.2: 500 đồng?" in check
    ack = await director.asks(chat, "đúng")
    assert "10.1. Ngân sách nhà nước: 5.000.000.000 đồng" in ack and "500 đồng" in ack
    assert (await stored(world, "tthtcd-an-binh")) == {"10.1": (5_000_000_000,), "10.2": (500,)}

    await director.asks(chat, "10.2: 300")  # unusual again…
    await director.asks(chat, "10.2: 3 triệu")  # …then corrected before any "đúng"
    late = await director.asks(chat, "ok")
    assert late.startswith("Các mục trong tin hỏi lại này đã có số mới")
    assert (await stored(world, "tthtcd-an-binh"))["10.2"] == (3_000_000,)
