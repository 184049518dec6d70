"""The five campaign files say exactly what their plan documents say (see ../shared/seeds)."""

import datetime as dt

from bot.campaign.loader import load_campaign
from bot.campaign.model import AnswerKind, DeadlineKind
from bot.campaign.timeline import timeline
from tests.conftest import SCHEDULES


def test_gia_lam_2020_states_no_ceremony_time(seeds):
    c = seeds["gia-lam"]
    assert c.theme == "Chuyển đổi số thúc đẩy Học tập suốt đời"
    assert (c.week.start, c.week.end) == (dt.date(2020, 10, 1), dt.date(2020, 10, 7))
    assert c.opening is not None
    assert (c.opening.date, c.opening.time, c.opening.place) == (None, None, None)
    assert len(c.opening.participants) == 3
    [report] = c.deadlines
    assert (report.date, report.before, report.kind) == (dt.date(2020, 10, 10), True, "report")
    assert "dodiemhuyen@hanoiedu.vn" in report.what
    assert report.audience == ["ubnd-xa", "co-so-giao-duc"]
    assert c.slogans.items == []
    # the plan attaches no table: the standard one (seed 001's), dated with this year
    assert c.form is not None and len(c.form.rows()) == 41
    assert c.form.subtitle.endswith("suốt đời năm 2020)")


def test_lac_thuy_2023(seeds):
    c = seeds["lac-thuy"]
    assert c.theme == "Xây dựng năng lực tự học trong kỷ nguyên số"
    assert (c.week.start, c.week.end) == (dt.date(2023, 10, 2), dt.date(2023, 10, 8))
    assert c.issued is None and c.document is None  # both left blank in the plan
    assert (c.opening.date, c.opening.time) == (dt.date(2023, 10, 2), dt.time(8, 0))
    assert c.opening.place == "Theo hướng dẫn của Ủy ban nhân dân các xã, thị trấn"
    assert c.opening.participants == [
        "Đại diện Ban giám hiệu, giáo viên, học sinh trong nhà trường"
    ]
    [report] = c.deadlines
    assert (report.date, report.before, report.kind) == (dt.date(2023, 10, 12), True, "report")
    assert report.audience == ["truong-hoc", "tthtcd"]


def test_lac_thuy_form_is_the_whole_table_in_order(seeds):
    form = seeds["lac-thuy"].form
    assert form.title == "MẪU TỔNG HỢP SỐ LIỆU KẾT QUẢ TỔ CHỨC TUẦN LỄ"
    assert form.subtitle == (
        "(Kèm theo báo cáo kết quả thực hiện Tuần lễ hưởng ứng học tập suốt đời năm 2023)"
    )
    rows = form.rows()
    assert [r.code for r in rows] == [
        "1", *[f"1.{i}" for i in range(1, 14)], "2", "3", "4", "4.1", "4.2",
        "5", *[f"5.{i}" for i in range(1, 7)], "6", "6.1", "6.2", "6.3", "7", "7.1", "7.2",
        "8", "9", "9.1", "9.2", "10", "10.1", "10.2", "11",
    ]  # fmt: skip
    assert len(rows) == 41
    by_code = {r.code: r for r in rows}
    assert by_code["1"].label == "Các lớp bồi dưỡng, tập huấn tổ chức trong Tuần lễ"
    assert (by_code["1"].unit, by_code["1"].answer) == ("lớp", AnswerKind.COUNT)
    assert (by_code["1.1"].unit, by_code["1.1"].answer) == ("người", AnswerKind.COUNT)
    assert by_code["1.13"].label == "Xóa mù chữ"
    assert by_code["1.2"].parts() == ("lớp", "người")
    assert by_code["4.1"].parts() == ("Tập thể", "cá nhân")
    assert by_code["5.3"].parts() == ("Số cuộc", "người")
    assert by_code["2"].answer is AnswerKind.COUNT  # "Tin, bài/ cuộc" is one figure
    assert by_code["7.2"].answer is AnswerKind.COUNT  # "Trường/trung tâm" is one figure
    assert by_code["10.1"].answer is AnswerKind.MONEY and by_code["10.2"].unit == "đồng"
    assert by_code["11"].answer is AnswerKind.TEXT
    headings = [r.code for r in rows if r.answer is None]
    assert headings == ["4", "7", "9", "10"]
    pairs = [r.code for r in rows if r.answer is AnswerKind.PAIR]
    assert len(pairs) == 12 + 1 + 4 + 3


def test_quan_12_2021(seeds):
    c = seeds["quan-12"]
    assert c.document == "6040/KH-UBND-GDDT" and c.issued == dt.date(2021, 9, 27)
    assert c.theme == "Chuyển đổi số để xây dựng thành công một xã hội học tập mới"
    assert (c.week.start, c.week.end) == (dt.date(2021, 10, 1), dt.date(2021, 10, 7))
    o = c.opening
    assert (o.date, o.time, o.online) == (dt.date(2021, 10, 1), dt.time(8, 0), True)
    assert o.place.startswith("Điểm cầu trung tâm tại Ủy ban nhân dân quận (phòng họp A và B)")
    assert [p.split(":")[0] for p in o.participants] == [
        "Tại phòng họp A", "Tại phòng họp B", "Tại điểm cầu Ủy ban nhân dân 11 phường",
    ]  # fmt: skip
    assert [row.item for row in o.agenda] == [
        "Tuyên bố lý do, giới thiệu đại biểu",
        "Diễn văn khai mạc “Tuần lễ hưởng ứng học tập suốt đời năm 2021”",
        "Phát biểu của đại diện các đơn vị cung ứng nhu cầu học tập",
        "Phát biểu hưởng ứng của người học tập",
        "Phát biểu của lãnh đạo Sở Giáo dục và Đào tạo",
        "Gửi thông điệp hưởng ứng Tuần lễ học tập suốt đời",
        "Kết thúc Lễ khai mạc",
    ]
    assert all(row.start is None and row.end is None for row in o.agenda)
    assert [(d.code, d.date, d.before, d.kind, d.audience) for d in c.deadlines] == [
        ("ke-hoach-phuong", dt.date(2021, 9, 29), False, DeadlineKind.PLAN, ["ubnd-phuong"]),
        ("bao-cao-phuong", dt.date(2021, 10, 10), True, DeadlineKind.REPORT, ["ubnd-phuong"]),
        ("bao-cao-quan", dt.date(2021, 10, 15), True, DeadlineKind.REPORT, ["phong-gddt"]),
    ]
    assert len(c.slogans.items) == 11
    assert c.slogans.items[0] == "Chuyển đổi số thúc đẩy Học tập suốt đời."
    assert c.slogans.items[2] == "Học, học nữa, học mãi (Lenin)."
    assert (
        c.slogans.items[10]
        == "Thông minh, tài trí là đòn bẩy thúc đẩy xã hội (Balzac - Nhà văn Pháp)."
    )


def test_khanh_hoa_2021_only_suggests_themes(seeds):
    c = seeds["khanh-hoa"]
    assert c.theme is None
    assert len(c.suggested_themes) == 3
    assert c.suggested_themes[1] == "Chuyển đổi số để xây dựng thành công một xã hội mới."
    assert (c.week.start, c.week.end) == (dt.date(2021, 10, 1), dt.date(2021, 10, 7))
    assert (c.opening.date, c.opening.time, c.opening.place) == (dt.date(2021, 10, 1), None, None)
    assert c.deadlines == []  # the letter is cut off before any deadline


def test_brvt_2022_agenda_has_nine_timed_rows(seeds):
    c = seeds["brvt"]
    assert c.theme == "Thúc đẩy chuyển đổi số phục vụ cho học tập suốt đời sau đại dịch COVID-19"
    assert (c.week.start, c.week.end) == (dt.date(2022, 10, 19), dt.date(2022, 10, 26))
    o = c.opening
    assert (o.date, o.time) == (dt.date(2022, 10, 19), dt.time(8, 0))
    assert o.place.startswith("Trường THCS Võ Văn Kiệt")
    times = [(row.start.strftime("%H:%M"), row.end.strftime("%H:%M")) for row in o.agenda]
    assert times == [
        ("07:30", "08:00"), ("08:00", "08:15"), ("08:15", "08:30"), ("08:30", "08:40"),
        ("08:40", "08:50"), ("08:50", "09:00"), ("09:00", "09:10"), ("09:10", "09:20"),
        ("09:20", "09:30"),
    ]  # fmt: skip
    assert [row.by for row in o.agenda][:3] == ["Ban tổ chức"] * 3
    assert o.agenda[3].by.startswith("Lãnh đạo huyện, thị xã, thành phố")
    assert o.agenda[5].by == "Cá nhân (do địa phương chọn)"
    assert o.agenda[6].by is None and o.agenda[7].by is None
    assert o.agenda[8].item == "Lễ gửi thông điệp Học tập suốt đời"
    [report] = c.deadlines
    assert (report.date, report.before) == (dt.date(2022, 10, 29), True)


def test_form_null_asks_for_no_figures(tmp_path):
    campaign = SCHEDULES / "2023-lac-thuy.yaml"
    quiet = tmp_path / "no-form.yaml"
    quiet.write_text(campaign.read_text(encoding="utf-8") + "\nform: null\n", encoding="utf-8")
    assert load_campaign(quiet).form is None
    assert not [d for d in timeline(load_campaign(quiet)) if d.kind == "data_prompt"]
