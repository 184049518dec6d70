"""The five seed plans, as text and as Word files: every field read exactly.

Expected values follow the hand-written campaigns in schedules/ (checked by a person against the
same plans); where a plan is silent or unclear the field is null.
"""

import pytest

from bot.campaign.plan import read_plan
from tests.plan.conftest import FORMATS, SEEDS

QUAN_12_SLOGANS = [
    "Chuyển đổi số thúc đẩy Học tập suốt đời.",
    "Học tập suốt đời - Học tập thông minh để trở thành công dân tốt, xây dựng gia đình hạnh phúc, xã hội văn minh.",
    "Học, học nữa, học mãi (Lenin).",
    "Không có tài sản nào quý bằng trí thông minh, không vinh quang nào lớn hơn học vấn và hiểu biết.",
    "Học ở trường, học ở sách vở, học lẫn nhau và học ở Nhân dân (Hồ Chí Minh).",
    "Trường học vĩ đại nhất chính là sách vở (Thomas Carlyle - nhà triết học Scotland).",
    "Phát triển thói quen đọc để trở thành người học suốt đời.",
    "Đọc và học tập suốt đời theo tám gương Bác Hồ vĩ đại.",
    "Tự học để phát triển năng lực và phẩm chất, góp phần xây dựng xã hội học tập.",
    "Học tập là hạt giống của kiến thức, kiến thức là hạt giống của hạnh phúc (Ngạn ngữ Gruzia).",
    "Thông minh, tài trí là đòn bẩy thúc đẩy xã hội (Balzac - Nhà văn Pháp).",
]


def untimed(*items: str) -> list[dict]:
    return [{"start": None, "end": None, "item": item, "by": None} for item in items]


def timed(start: str, end: str, item: str, by: str | None = None) -> dict:
    return {"start": start, "end": end, "item": item, "by": by}


EXPECTED = {
    "gia-lam": {
        "theme": "Chuyển đổi số thúc đẩy Học tập suốt đời",
        "week_start": "2020-10-01",
        "week_end": "2020-10-07",
        "opening": None,  # the plan asks for a ceremony (4.2) but gives no date, time or place
        "deadlines": [
            {
                "what": "Báo cáo kết quả triển khai Tuần lễ năm 2020 về UBND huyện Gia Lâm (qua phòng Phòng Giáo dục và Đào tạo)",
                "date": "2020-10-10",
                "audience": "UBND các xã, thị trấn, các cơ sở giáo dục",
            }
        ],
        "slogans": [],
        "agenda": [],
    },
    "lac-thuy": {
        "theme": "Xây dựng năng lực tự học trong kỷ nguyên số",
        "week_start": "2023-10-02",
        "week_end": "2023-10-08",
        "opening": {
            "date": "2023-10-02",
            "time": "08:00",
            "place": "Theo hướng dẫn của Ủy ban nhân dân các xã, thị trấn",
        },
        "deadlines": [
            {
                "what": "Báo cáo kết quả thực hiện về Phòng Phòng Giáo dục và Đào tạo (qua bộ phận GDTX) địa chỉ Email: gdtx.lat@hoabinh.edu.vn",
                "date": "2023-10-12",
                # the sentence has no subject: the letter's addressees ("Kính gửi") must report
                "audience": "Các trường học trực thuộc Phòng Giáo dục và Đào tạo; Các Trung tâm học tập cộng đồng các xã, thị trấn",
            }
        ],
        "slogans": [],
        "agenda": [],  # the statistics table has no time column: not an agenda
    },
    "quan-12": {
        "theme": "Chuyển đổi số để xây dựng thành công một xã hội học tập mới",
        "week_start": "2021-10-01",
        "week_end": "2021-10-07",
        "opening": {
            "date": "2021-10-01",
            "time": "08:00",
            "place": "Điểm cầu trung tâm tại Ủy ban nhân dân quận (phòng họp A và B); điểm cầu kết nối tại Ủy ban nhân dân 11 phường",
        },
        "deadlines": [
            {
                "what": "Kế hoạch về Ủy ban nhân dân quận (thông qua phòng Giáo dục và Đào tạo)",
                "date": "2021-09-29",
                "audience": "Ủy ban nhân dân 11 phường",
            },
            {
                "what": "Báo cáo kết quả thực hiện Tuần lễ hưởng ứng học tập suốt đời trên địa bàn phường về Ủy ban nhân dân quận (thông qua phòng Giáo dục và Đào tạo)",
                "date": "2021-10-10",
                "audience": "Ủy ban nhân dân 11 phường",
            },
            {
                "what": "Báo cáo kết quả triển khai thực hiện về Ủy ban nhân dân quận, Sở Giáo dục và Đào tạo",
                "date": "2021-10-15",
                "audience": "Phòng Giáo dục và Đào tạo",
            },
        ],
        "slogans": QUAN_12_SLOGANS,
        "agenda": untimed(
            "Tuyên bố lý do, giới thiệu đại biểu",
            "Diễn văn khai mạc “Tuần lễ hưởng ứng học tập suốt đời năm 2021”",
            "Phát biểu của đại diện các đơn vị cung ứng nhu cầu học tập",
            "Phát biểu hưởng ứng của người học tập",
            "Phát biểu của lãnh đạo Sở Giáo dục và Đào tạo",
            "Gửi thông điệp hưởng ứng Tuần lễ học tập suốt đời",
            "Kết thúc Lễ khai mạc",
        ),
    },
    "khanh-hoa": {
        "theme": None,  # three themes are only suggested; each unit chooses
        "week_start": "2021-10-01",
        "week_end": "2021-10-07",
        "opening": {"date": "2021-10-01", "time": None, "place": None},
        "deadlines": [],  # the letter is cut off before any deadline
        "slogans": [],
        "agenda": [],
    },
    "brvt": {
        "theme": "Thúc đẩy chuyển đổi số phục vụ cho học tập suốt đời sau đại dịch COVID-19",
        "week_start": "2022-10-19",
        "week_end": "2022-10-26",
        "opening": {
            "date": "2022-10-19",
            "time": "08:00",
            "place": "Trường THCS Võ Văn Kiệt, địa chỉ khu phố Tân Phú, phường Phú Mỹ, thị xã Phú Mỹ, Bà Rịa-Vũng Tàu",
        },
        "deadlines": [
            {
                "what": "Báo cáo kết quả thực hiện bằng văn bản (theo biểu mẫu kèm theo) về Sở GDĐT (Cơ quan thường trực Ban Chỉ đạo xây dựng xã hội học tập tỉnh)",
                "date": "2022-10-29",
                "audience": "Thủ trưởng các sở, ban, ngành, đoàn thể, chủ tịch UBND huyện, thị xã, thành phố",
            }
        ],
        "slogans": [],
        "agenda": [
            timed("07:30", "08:00", "Tiếp đón đại biểu", "Ban tổ chức"),
            timed("08:00", "08:15", "Văn nghệ chào mừng", "Ban tổ chức"),
            timed("08:15", "08:30", "Tuyên bố lý do, giới thiệu đại biểu", "Ban tổ chức"),
            timed(
                "08:30",
                "08:40",
                "Phát động Tuần lễ hưởng ứng học tập suốt đời năm 2022",
                "Lãnh đạo huyện, thị xã, thành phố - Trưởng ban chỉ đạo xây dựng xã hội học tập của địa phương",
            ),
            timed(
                "08:40",
                "08:50",
                "Đại diện các cơ sở cung cấp cơ hội học tập suốt đời cho mọi người phát biểu hưởng ứng việc học tập suốt đời",
                "Trường học/TTGDTX/Trung tâm Văn hóa - Thể thao và Học tập cộng đồng (do địa phương chọn)",
            ),
            timed(
                "08:50",
                "09:00",
                "Đại diện người học phát biểu hưởng ứng việc học tập suốt đời",
                "Cá nhân (do địa phương chọn)",
            ),
            timed("09:00", "09:10", "Đại diện lãnh đạo tỉnh, cơ quan cấp tỉnh phát biểu (nếu có)"),
            timed("09:10", "09:20", "Vận động tặng học bổng, khen thưởng học sinh hiếu học..."),
            timed(
                "09:20",
                "09:30",
                "Lễ gửi thông điệp Học tập suốt đời",
                "Đại diện lãnh đạo tỉnh, cơ quan cấp tỉnh (nếu có); Phòng Giáo dục và Đào tạo, Phòng Văn hóa - Thông tin, Hội Khuyến học cấp huyện; đại diện lãnh đạo UBND cấp xã (nơi tổ chức lễ khai mạc); 01 đại diện cơ sở giáo dục và 01 đại diện người học",
            ),
        ],
    },
}

# What the campaign draft needs beyond the JSON: issuer, number, date, and so on.
HEADER = {
    "gia-lam": ("Ủy ban nhân dân huyện Gia Lâm", None, None),
    "lac-thuy": ("Phòng Giáo dục và Đào tạo Lạc Thủy", None, None),  # "Số: /GD&ĐT", "ngày tháng 9"
    "quan-12": ("Ủy ban nhân dân Quận 12", "6040/KH-UBND-GDDT", "2021-09-27"),
    "khanh-hoa": ("Ủy ban nhân dân tỉnh Khánh Hòa", "8852/UBND-KGVX", "2021-09-10"),
    "brvt": ("Ủy ban nhân dân tỉnh Bà Rịa - Vũng Tàu", "19H/KH-UBND", "2022-10-18"),
}

CASES = [(seed, fmt) for seed in SEEDS for fmt in FORMATS]


@pytest.fixture(scope="module")
def plans(seed_files):
    return {case: read_plan(path) for case, path in seed_files.items()}


@pytest.mark.parametrize(("seed", "fmt"), CASES)
def test_every_field_is_read_exactly(plans, seed, fmt):
    assert plans[seed, fmt].as_json() == EXPECTED[seed]


@pytest.mark.parametrize(("seed", "fmt"), CASES)
def test_the_letterhead_gives_issuer_number_and_date(plans, seed, fmt):
    plan = plans[seed, fmt]
    issued = plan.issued.isoformat() if plan.issued else None
    assert (plan.issuer, plan.document, issued) == HEADER[seed]


@pytest.mark.parametrize("fmt", FORMATS)
def test_only_suggested_themes_are_kept_as_suggestions(plans, fmt):
    assert plans["khanh-hoa", fmt].suggested_themes == (
        "Chuyển đổi số và cơ hội học tập suốt đời cho tất cả mọi người trong bối cảnh đại dịch COVID-19",
        "Chuyển đổi số để xây dựng thành công một xã hội mới",
        "Thi đua đẩy nhanh mức độ trưởng thành chuyển đổi số tại địa phương, đơn vị, cộng đồng",
    )
    assert all(not plans[seed, fmt].suggested_themes for seed in SEEDS if seed != "khanh-hoa")


@pytest.mark.parametrize("fmt", FORMATS)
def test_deadlines_know_trước_ngày_from_chậm_nhất_and_plans_from_reports(plans, fmt):
    kinds = {seed: [(d.before, d.kind.value) for d in plans[seed, fmt].deadlines] for seed in SEEDS}
    assert kinds == {
        # "Ngày 10/10/2020: ... gửi báo cáo", then "trước ngày 10/10/2020": one deadline, strict
        "gia-lam": [(True, "report")],
        "lac-thuy": [(True, "report")],
        "quan-12": [(False, "plan"), (True, "report"), (True, "report")],
        "khanh-hoa": [],
        "brvt": [(True, "report")],
    }


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_ceremony_details_the_draft_needs(plans, fmt):
    quan_12 = plans["quan-12", fmt].opening
    assert quan_12.online
    assert [who.split(":")[0] for who in quan_12.participants] == [
        "Tại phòng họp A",
        "Tại phòng họp B",
        "Tại điểm cầu Ủy ban nhân dân 11 phường",
    ]
    assert plans["lac-thuy", fmt].opening.participants == (
        "Đại diện Ban giám hiệu, giáo viên, học sinh trong nhà trường",
    )
    brvt = plans["brvt", fmt].opening
    assert not brvt.online
    assert brvt.participants == (
        "Đại diện Lãnh đạo cấp ủy đảng, chính quyền, các cơ quan, các tổ chức xã hội, doanh nghiệp có liên quan",
        "Đại diện các cơ sở giáo dục, các thiết chế văn hóa, các cơ quan thông tin đại chúng",
        "Đại diện của các tầng lớp nhân dân, học sinh, sinh viên trên địa bàn",
    )
    gia_lam = plans["gia-lam", fmt].opening
    assert gia_lam.date is None and len(gia_lam.participants) == 3


def test_a_document_cut_off_mid_sentence_is_read_as_far_as_it_goes(tmp_path, plans):
    from tests.plan.conftest import seed_text

    text = seed_text("khanh-hoa")
    assert text.rstrip().endswith("trong bối")
    path = tmp_path / "cut.txt"
    path.write_text(text[: text.index("III. THỜI GIAN") + 40], encoding="utf-8")
    cut = read_plan(path)
    assert cut.week_start is None and cut.opening is None  # cut inside the week's sentence
    assert cut.suggested_themes == plans["khanh-hoa", "txt"].suggested_themes
