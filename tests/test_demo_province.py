"""`make demo` shows a province: its units in four communes, xã An Bình's coordinator scoped to
them, the district's table with a subtotal sheet per commune and the commune's own table, and
the closing words saying so. (The whole demo runs with `make demo`; these are its parts.)"""

from openpyxl import load_workbook

from bot import demo
from bot.campaign.loader import load_units
from bot.campaign.units import by_parent
from bot.images import normalized
from bot.ops import units as unit_ops
from bot.ops.env import Env
from tests.ops.support import VN, StillClock
from tests.test_small_texts import demo_said

LAC_THUY = load_units(demo.UNITS, demo.load_campaign(demo.CAMPAIGN))


def test_the_demos_units_are_in_communes_and_its_commune_coordinator_has_units():
    parents = [parent for parent, _ in by_parent(LAC_THUY, lambda unit: unit.parent)]
    assert len(parents) >= 3 and None not in parents
    theirs = demo.COMMUNE.within(LAC_THUY, lambda unit: unit.parent)
    assert [unit.code for unit in theirs] == ["mn-an-binh", "tthtcd-an-binh"]


async def test_the_exports_are_the_districts_by_commune_and_the_communes_own(
    db, monkeypatch, tmp_path
):
    monkeypatch.chdir(tmp_path)  # the demo writes to var/demo/ where it runs
    campaign = demo.load_campaign(demo.CAMPAIGN)
    await unit_ops.import_units(db, LAC_THUY, "lac-thuy.csv", actor="demo")
    at = StillClock(demo.dt.datetime(2023, 10, 11, 12, tzinfo=VN))
    files, district = await demo.export(Env(db, campaign, "lac-thuy-2023", at))

    assert [str(f) for f in files] == [
        "var/demo/tong-hop-lac-thuy-2023.xlsx",
        "var/demo/tong-hop-lac-thuy-2023.csv",
        "var/demo/tong-hop-lac-thuy-2023.docx",
        "var/demo/tong-hop-lac-thuy-2023-XA-AN-BINH.xlsx",
    ]
    communes = ["TT Chi Nê", "xã An Bình", "xã Khoan Dụ", "xã Đồng Tâm"]
    assert [group.parent for group in district.groups] == communes
    whole = load_workbook(files[0])
    assert whole.sheetnames[: 1 + len(communes)] == ["Tổng hợp", *communes]
    own = load_workbook(files[-1])
    assert own.sheetnames == ["Tổng hợp", "xã An Bình", "mn-an-binh", "tthtcd-an-binh"]


def test_the_closing_words_name_the_communes_subtotals_and_the_commune_coordinator(seeds):
    said = demo_said(
        seeds["lac-thuy"], communes=["TT Chi Nê", "xã An Bình"], commune=demo.COMMUNE_COORDINATOR
    )
    assert "một trang tổng cộng cho mỗi xã, thị trấn (TT Chi Nê, xã An Bình)" in said
    assert f"{demo.COMMUNE_COORDINATOR} chỉ điều phối các đơn vị của xã mình" in said


def test_the_demos_photo_is_a_picture_loa_keeps():
    kept = normalized(demo.picture("#1565c0"))
    assert (kept.width, kept.height) == (1200, 800)


def test_the_closing_words_count_the_reports_photos(seeds):
    said = demo_said(seeds["lac-thuy"], photos=2)
    assert "Báo cáo Word có phụ lục “Hình ảnh hoạt động” với 2 ảnh các đơn vị gửi" in said
    assert "phụ lục" not in demo_said(seeds["lac-thuy"], photos=0)
