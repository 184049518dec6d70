"""A commune's coordinator in chat: Anh Bình coordinates xã An Bình (`LOA_ADMINS`
`telegram:ID@XA-AN-BINH`) beside Cô Lan, the district's. Each coordinator command shows, sends
to, exports and changes only An Bình's units; Cô Lan's reach everything as before."""

import io
from collections.abc import AsyncIterator

import pytest
from openpyxl import load_workbook

from bot.campaign.scope import Scope
from tests.e2e.conftest import Person, World, start_world

AN_BINH = ("mn-an-binh", "tthtcd-an-binh")  # xã An Bình's units in the Lạc Thủy list
OTHERS = ("th-chi-ne", "thcs-khoan-du")  # TT Chi Nê, xã Khoan Dụ


@pytest.fixture
async def commune(sandbox, database, clock) -> AsyncIterator[tuple[World, Person]]:
    binh = Person(sandbox, sandbox.add_user("Anh Bình"), "Anh Bình")
    scopes = {f"telegram:{binh.id}": Scope.of("XA-AN-BINH")}
    world = await start_world(sandbox, database, clock, scopes=scopes)
    await binh.asks(binh.id, "/start")
    yield world, binh
    await world.loa.stop()


async def test_tiendo_lists_the_communes_units_one_by_one(commune):
    world, binh = commune
    await world.registered_groups("mn-an-binh", "th-chi-ne")

    mine = await binh.asks(binh.id, "/tiendo")
    assert mine.startswith("📍 xã An Bình\n📊 Tiến độ đăng ký: 1/2 đơn vị đang nhận tin")
    assert "Trường Mầm non An Bình (mn-an-binh)" in mine
    assert "Trung tâm học tập cộng đồng xã An Bình (tthtcd-an-binh): chưa đăng ký" in mine
    assert "Chi Nê" not in mine and "Khoan Dụ" not in mine

    other = await binh.asks(binh.id, "/tiendo Chi Nê")  # another commune's name: not theirs
    assert "Chi Nê" not in other.replace("“Chi Nê”", "") and "mn-an-binh" in other

    everything = await world.coordinator.asks(world.coordinator.id, "/tiendo")
    assert "📊 Tiến độ đăng ký: 2/6 đơn vị" in everything and "TT Chi Nê: 1/2" in everything


async def test_xuat_sends_the_communes_table_with_its_subtotal(commune):
    world, binh = commune
    before = len(world.sandbox.sent(binh.id))
    await binh.says(binh.id, "/xuat")
    _, table = (await world.sandbox.wait_sent(binh.id, before + 2))[before:]
    assert table["document"]["file_name"] == "tong-hop-lac-thuy-2023-XA-AN-BINH.xlsx"
    assert "2 đơn vị" in table["caption"]
    book = load_workbook(io.BytesIO(table["sandbox"]["file_bytes"]))
    assert book.sheetnames == ["Tổng hợp", "xã An Bình", *AN_BINH]


async def test_thongbao_reaches_the_communes_groups_only(commune):
    world, binh = commune
    groups = await world.registered_groups(*AN_BINH, *OTHERS)

    started = await binh.asks(binh.id, "/thongbao Họp các đơn vị xã lúc 14h")
    assert started == "📤 Đang gửi thông báo tới 2 nhóm/cuộc trò chuyện của đơn vị..."
    done = await world.sandbox.wait_sent(binh.id, len(world.sandbox.sent(binh.id)) + 1)
    assert done[-1]["text"] == "✅ Đã gửi thông báo tới cả 2 nhóm/cuộc trò chuyện."
    for code, chat in groups.items():
        got = [m for m in world.sandbox.sent(chat) if "Họp các đơn vị xã" in m["text"]]
        assert len(got) == (1 if code in AN_BINH else 0), code


async def test_scheduled_announcements_are_each_coordinators_own_to_cancel(commune):
    world, binh = commune
    await world.registered_groups(*AN_BINH, *OTHERS)
    lan = world.coordinator
    provinces = await lan.asks(lan.id, "/thongbao 05/10 14h Họp toàn huyện")
    assert "tới 4 nhóm" in provinces
    communes = await binh.asks(binh.id, "/thongbao 05/10 15h Họp xã An Bình")
    assert "tới 2 nhóm" in communes

    listed = await binh.asks(binh.id, "/lichthongbao")
    assert "Họp xã An Bình" in listed and "toàn huyện" not in listed
    everything = await lan.asks(lan.id, "/lichthongbao")
    assert "Họp xã An Bình" in everything and "toàn huyện" in everything
    numbers = {line.split(":")[0] for line in everything.splitlines() if line.startswith("#")}
    theirs = next(n for n in numbers if n in listed)
    district = next(n for n in numbers if n not in listed)

    refused = await binh.asks(binh.id, f"/huythongbao {district}")
    assert refused.startswith("Không có thông báo hẹn giờ số")
    cancelled = await binh.asks(binh.id, f"/huythongbao {theirs}")
    assert cancelled.startswith(f"Đã hủy thông báo {theirs} (2 nơi nhận")
    assert "toàn huyện" in await lan.asks(lan.id, "/lichthongbao")


async def test_a_unit_of_another_commune_is_not_theirs_to_see_or_unregister(commune):
    world, binh = commune
    groups = await world.registered_groups("th-chi-ne", "mn-an-binh")

    assert await binh.asks(binh.id, "/xem th-chi-ne") == (
        "Không có đơn vị mã “th-chi-ne”. Mã các đơn vị xem ở /tiendo."
    )
    assert "Trường Mầm non An Bình" in await binh.asks(binh.id, "/xem mn-an-binh")
    refused = await binh.asks(binh.id, "/huydangky th-chi-ne")
    assert refused.startswith("Không có đơn vị mã “th-chi-ne”")
    assert "1/2 đơn vị" in await binh.asks(binh.id, "/tiendo")  # An Bình's still registered
    assert "TT Chi Nê: 1/2" in await world.coordinator.asks(world.coordinator.id, "/tiendo")

    done = await binh.asks(binh.id, "/huydangky mn-an-binh")
    assert done.startswith("Đã hủy đăng ký 1 cuộc trò chuyện của Trường Mầm non An Bình")
    assert groups["mn-an-binh"]


async def test_notices_reach_a_commune_coordinator_about_its_units_only(commune):
    world, binh = commune
    heard = len(world.sandbox.sent(binh.id))
    await world.registered_groups("th-chi-ne")
    assert len(world.sandbox.sent(binh.id)) == heard  # Cô Lan heard; Anh Bình did not

    await world.registered_groups("mn-an-binh")
    notices = await world.sandbox.wait_sent(binh.id, heard + 1)
    assert notices[heard]["text"].startswith("✅ Trường Mầm non An Bình (mn-an-binh) đã đăng ký")
    assert "Tiến độ: 1/2 đơn vị đã đăng ký." in notices[heard]["text"]  # xã An Bình's count
    lan = world.coordinator.id
    district = [m["text"] for m in world.sandbox.sent(lan) if "mn-an-binh" in m.get("text", "")]
    assert "Tiến độ: 2/6 đơn vị đã đăng ký." in district[-1]  # the campaign's, for Cô Lan


async def test_loa_run_warns_of_a_commune_no_unit_belongs_to(commune):
    world, _ = commune
    assert "⚠️ LOA_ADMINS" not in await world.loa.summary()
    world.loa.scopes["telegram:7"] = Scope.of("XA-AN-BIN")  # one letter short
    said = await world.loa.summary()
    assert "⚠️ LOA_ADMINS: telegram:7@XA-AN-BIN: không đơn vị nào thuộc xã, phường có mã này" in said
    assert "(mã hiện có: TT-CHI-NE, XA-AN-BINH, XA-DONG-TAM, XA-KHOAN-DU)" in said
