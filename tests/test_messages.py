"""Templates in messages/ rendered over the seeds: Vietnamese dates, times and every field."""

import datetime as dt

import pytest

from bot.campaign.model import Announcement
from bot.campaign.timeline import Kind, timeline
from bot.campaign.units import Unit
from bot.errors import Problem
from bot.messages import describe, environment, field_name, render_delivery


def texts(campaign, kind, units=None):
    return [render_delivery(d, campaign) for d in timeline(campaign, units) if d.kind is kind]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.date(2023, 10, 2), "Thứ Hai, 02/10/2023"),
        (dt.date(2021, 10, 1), "Thứ Sáu, 01/10/2021"),
        (dt.date(2023, 10, 8), "Chủ Nhật, 08/10/2023"),
    ],
)
def test_dates_are_written_the_vietnamese_way(value, expected):
    assert environment().globals["f"].date(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(dt.time(8, 0), "8h00"), (dt.time(7, 30), "7h30"), (dt.time(14, 5), "14h05")],
)
def test_times_are_written_the_vietnamese_way(value, expected):
    assert environment().globals["f"].time(value) == expected


def test_every_delivery_of_every_seed_renders(seeds):
    for campaign in seeds.values():
        for delivery in timeline(campaign):
            text = render_delivery(delivery, campaign)
            assert text and "None" not in text and "\n\n" not in text, (delivery, text)


def test_brvt_agenda_carries_all_nine_rows_with_times(seeds):
    [text] = texts(seeds["brvt"], Kind.OPENING_AGENDA)
    assert text.startswith("🎤 Hôm nay, Thứ Tư, 19/10/2022, lúc 8h00: Lễ khai mạc")
    rows = [line for line in text.splitlines() if line[:2].rstrip(".").isdigit()]
    assert rows == [
        "1. 7h30–8h00: Tiếp đón đại biểu (Ban tổ chức)",
        "2. 8h00–8h15: Văn nghệ chào mừng (Ban tổ chức)",
        "3. 8h15–8h30: Tuyên bố lý do, giới thiệu đại biểu (Ban tổ chức)",
        "4. 8h30–8h40: Phát động Tuần lễ hưởng ứng học tập suốt đời năm 2022 (Lãnh đạo huyện, "
        "thị xã, thành phố - Trưởng ban chỉ đạo xây dựng xã hội học tập của địa phương)",
        "5. 8h40–8h50: Đại diện các cơ sở cung cấp cơ hội học tập suốt đời cho mọi người phát "
        "biểu hưởng ứng việc học tập suốt đời (Trường học/TTGDTX/Trung tâm Văn hóa - Thể thao "
        "và Học tập cộng đồng (do địa phương chọn))",
        "6. 8h50–9h00: Đại diện người học phát biểu hưởng ứng việc học tập suốt đời "
        "(Cá nhân (do địa phương chọn))",
        "7. 9h00–9h10: Đại diện lãnh đạo tỉnh, cơ quan cấp tỉnh phát biểu (nếu có)",
        "8. 9h10–9h20: Vận động tặng học bổng, khen thưởng học sinh hiếu học...",
        "9. 9h20–9h30: Lễ gửi thông điệp Học tập suốt đời (Đại diện lãnh đạo tỉnh, cơ quan cấp "
        "tỉnh (nếu có); Phòng Giáo dục và Đào tạo, Phòng Văn hóa - Thông tin, Hội Khuyến học "
        "cấp huyện; đại diện lãnh đạo UBND cấp xã (nơi tổ chức lễ khai mạc); 01 đại diện cơ sở "
        "giáo dục và 01 đại diện người học)",
    ]


def test_quan_12_online_ceremony_with_untimed_programme(seeds):
    [text] = texts(seeds["quan-12"], Kind.OPENING_AGENDA)
    assert "Thứ Sáu, 01/10/2021, lúc 8h00" in text and "(trực tuyến)" in text
    assert "1. Tuyên bố lý do, giới thiệu đại biểu" in text
    assert "7. Kết thúc Lễ khai mạc" in text


def test_opening_notice_gives_date_time_place_participants(seeds):
    first, last = texts(seeds["lac-thuy"], Kind.OPENING_NOTICE)
    assert "(còn 3 ngày)" in first and "(còn 1 ngày)" in last
    assert "- Thời gian: 8h00, Thứ Hai, 02/10/2023" in first
    assert "- Địa điểm: Theo hướng dẫn của Ủy ban nhân dân các xã, thị trấn" in first
    assert "+ Đại diện Ban giám hiệu, giáo viên, học sinh trong nhà trường" in first


def test_an_unstated_time_or_place_is_said_not_invented(seeds):
    first, _ = texts(seeds["khanh-hoa"], Kind.OPENING_NOTICE)
    assert "Thứ Sáu, 01/10/2021 (kế hoạch chưa nêu giờ)" in first
    assert "- Địa điểm: kế hoạch chưa nêu" in first


def test_deadline_reminders_say_the_deadline_the_plan_way(seeds):
    first, *_, last = texts(seeds["quan-12"], Kind.DEADLINE_REMINDER)
    assert "Hạn: chậm nhất ngày Thứ Tư, 29/09/2021." in first
    assert "Còn 1 ngày." in first
    assert "Đơn vị thực hiện: Ủy ban nhân dân 11 phường." in first
    assert "Hạn: trước ngày Thứ Sáu, 15/10/2021." in last
    assert "Hôm nay là ngày cuối." in last


def test_slogans_and_week_messages(seeds):
    slogans = texts(seeds["quan-12"], Kind.SLOGAN)
    assert (
        slogans[2]
        == "💡 Khẩu hiệu ngày 3 của Tuần lễ (Chủ Nhật, 03/10/2021):\n“Học, học nữa, học mãi (Lenin).”"
    )
    [start] = texts(seeds["lac-thuy"], Kind.WEEK_START)
    assert (
        "Hôm nay, Thứ Hai, 02/10/2023, bắt đầu Tuần lễ hưởng ứng học tập suốt đời năm 2023" in start
    )
    assert "Chủ đề: “Xây dựng năng lực tự học trong kỷ nguyên số”." in start
    [end] = texts(seeds["lac-thuy"], Kind.WEEK_END)
    assert "Chủ Nhật, 08/10/2023, là ngày cuối" in end and "trước ngày Thứ Năm, 12/10/2023" in end


def test_data_prompts_list_the_section_rows_with_their_units(seeds):
    prompts = texts(seeds["lac-thuy"], Kind.DATA_PROMPT)
    assert prompts[0].startswith("📝 Số liệu Tuần lễ, phần 1/11: Các lớp bồi dưỡng, tập huấn")
    assert "\n1. Các lớp bồi dưỡng, tập huấn tổ chức trong Tuần lễ (lớp)\n" in prompts[0]
    assert "\n1.13. Xóa mù chữ (lớp/người)\n" in prompts[0]
    assert "\n4.1. Số tập thể/ cá nhân tặng sách (Tập thể/cá nhân)\n" in prompts[3]
    assert "\n10.1. Ngân sách nhà nước (đồng)\n" in prompts[9]
    assert "11. Các nội dung khác (nếu có) (ghi bằng chữ)" in prompts[10]


def test_a_unit_is_greeted_by_name(seeds):
    unit = Unit("th-a", "Trường Tiểu học A", "truong-hoc")
    [text] = texts(seeds["lac-thuy"], Kind.WEEK_START, [unit])
    assert text.startswith("Kính gửi: Trường Tiểu học A\n📣 Hôm nay")


def test_a_planned_announcement_is_signed_by_the_issuer(seeds):
    note = Announcement(date="2023-10-03", time="14h00", text="Họp giao ban lúc 15h00.")
    c = seeds["lac-thuy"].model_copy(update={"announcements": [note]})
    assert texts(c, Kind.ANNOUNCEMENT) == [
        "📢 Thông báo: Họp giao ban lúc 15h00.\n— Phòng Giáo dục và Đào tạo Lạc Thủy"
    ]


def test_field_names_count_rows_from_one():
    assert field_name(("opening", "agenda", 3, "start")) == "opening.agenda[4].start"
    assert field_name(()) == ""


def test_unknown_error_codes_fall_back_to_a_generic_wording():
    problem = Problem(("week",), "something_new", {"detail": "x"}, "f.yaml", 3)
    assert describe(problem) == "f.yaml:3: week: giá trị không hợp lệ (x)"


PHOTO_ASK = "📷 Gửi kèm vài ảnh hoạt động tiêu biểu"


def test_the_report_reminders_ask_for_photos_and_the_others_do_not(seeds):
    for campaign in seeds.values():
        for delivery in timeline(campaign):
            if delivery.kind is not Kind.DEADLINE_REMINDER:
                continue
            text = render_delivery(delivery, campaign)
            asks = PHOTO_ASK in text
            assert asks == (delivery.context.deadline.kind == "report"), text


def test_the_forms_last_message_asks_for_photos(seeds):
    from types import SimpleNamespace

    from bot.messages import render

    campaign = next(c for c in seeds.values() if c.form is not None)
    unit = SimpleNamespace(name="Trường TH A")
    text = render("replies/answers_complete", campaign=campaign, unit=unit, form=campaign.form)
    assert text.startswith("🎉 Trường TH A đã nhập đủ số liệu")
    assert PHOTO_ASK in text and "chú thích" in text
