"""`loa check`: exit 0 when valid, exit 2 with every error as `FILE:LINE: message`."""

import subprocess
import sys
from textwrap import dedent

import pytest

from bot.cli import main
from tests.conftest import ROOT, SCHEDULES, SEEDS

VALID = dedent("""\
    name: Tuần lễ hưởng ứng học tập suốt đời năm 2024
    issuer: Phòng GDĐT
    timezone: Asia/Ho_Chi_Minh
    week:
      start: 2024-10-01
      end: 2024-10-07
    opening:
      date: 2024-10-01
      time: 8h00
      agenda:
        - {start: "7h30", end: "8h00", item: Đón đại biểu}
        - {start: "8h00", end: "8h15", item: Văn nghệ}
    audiences:
      - {code: truong, name: Các trường}
    deadlines:
      - code: bao-cao
        what: Báo cáo kết quả
        date: 2024-10-12
        kind: report
        audience: [truong]
    slogans:
      items:
        - Học, học nữa, học mãi.
    form: form.yaml
""")

FORM = dedent("""\
    title: MẪU TỔNG HỢP SỐ LIỆU
    sections:
      - code: "1"
        label: Các lớp
        unit: lớp
        items:
          - {code: "1.1", label: Bồi dưỡng, unit: lớp/người}
      - code: "2"
        label: Kinh phí
        unit: đồng
""")


def run_check(tmp_path, capsys, campaign: str, form: str = FORM) -> tuple[int, list[str]]:
    (tmp_path / "form.yaml").write_text(form, encoding="utf-8")
    path = tmp_path / "campaign.yaml"
    path.write_text(campaign, encoding="utf-8")
    status = main(["check", str(path)])
    return status, capsys.readouterr().out.splitlines()


def test_all_seed_files_are_valid(capsys):
    status = main(["check", *(str(SCHEDULES / name) for name in SEEDS.values())])
    out = capsys.readouterr().out
    assert status == 0, out
    assert out.count("hợp lệ") == 5


def test_the_valid_example_is_valid(tmp_path, capsys):
    assert run_check(tmp_path, capsys, VALID)[0] == 0


BAD_CASES = {
    "malformed yaml": (
        ("    audience: [truong]", "    audience: [truong"),
        ":20: ",
        "lỗi cú pháp YAML",
    ),
    "unknown key": (("timezone:", "timezon:"), ":3: timezon: ", "khóa không hợp lệ “timezon”, có phải là “timezone”?"),
    "typo in a nested key": (("  time: 8h00", "  tiem: 8h00"), ":9: opening.tiem: ", "có phải là “time”?"),
    "missing field": (("issuer: Phòng GDĐT\n", ""), ":1: issuer: ", "thiếu trường bắt buộc"),
    "missing nested field": (("    what: Báo cáo kết quả\n", ""), ":16: deadlines[1].what: ", "thiếu"),
    "impossible date": (("end: 2024-10-07", "end: 31/9/2024"), ":6: week.end: ", "ngày “31/9/2024” không tồn tại"),
    "year out of range": (("end: 2024-10-07", "end: 9999-12-31"), ":6: week.end: ", "nằm ngoài khoảng 2000–2100"),
    "impossible iso date": (("date: 2024-10-12", "date: 2024-09-31"), ":18: deadlines[1].date: ", "không tồn tại"),
    "not a date": (("start: 2024-10-01", "start: mùng một"), ":5: week.start: ", "không phải là ngày"),
    "bad time": (("time: 8h00", "time: 25h00"), ":9: opening.time: ", "“25h00” không phải là giờ"),
    "week end before start": (("end: 2024-10-07", "end: 2024-09-30"), ":6: week.end: ", "trước ngày bắt đầu"),
    "agenda out of order": (
        ('{start: "8h00", end: "8h15", item: Văn nghệ}', '{start: "7h00", end: "7h15", item: Văn nghệ}'),
        ":12: opening.agenda[2].start: ",
        "sớm hơn mục 1",
    ),
    "agenda overlapping": (
        ('{start: "8h00", end: "8h15", item: Văn nghệ}', '{start: "7h50", end: "8h15", item: Văn nghệ}'),
        ":12: opening.agenda[2].start: ",
        "khi mục 1 chưa kết thúc (8h00)",
    ),
    "agenda row ending before it starts": (
        ('{start: "8h00", end: "8h15", item: Văn nghệ}', '{start: "8h15", end: "8h00", item: Văn nghệ}'),
        ":12: opening.agenda[2].end: ",
        "không sau giờ bắt đầu",
    ),
    "report due before the week ends": (
        ("date: 2024-10-12", "date: 2024-10-03"),
        ":18: deadlines[1].date: ",
        "trước khi Tuần lễ kết thúc",
    ),
    "unknown time zone": (
        ("timezone: Asia/Ho_Chi_Minh", "timezone: Asia/Hanoi_City"),
        ":3: timezone: ",
        "múi giờ “Asia/Hanoi_City” không tồn tại",
    ),
    "empty slogan": (("- Học, học nữa, học mãi.", '- ""'), ":23: slogans.items[1]: ", "không được để trống"),
    "blank slogan": (("- Học, học nữa, học mãi.", "-    "), ":23: slogans.items[1]: ", "không được để trống"),
    "unknown audience": (("audience: [truong]", "audience: [truong, phuong]"), ":20: deadlines[1].audience[2]: ", "“phuong”"),
    "repeated key": (("slogans:\n", "name: Lần hai\nslogans:\n"), ":21: ", "khóa “name” xuất hiện hai lần"),
    "reminder in quiet hours": (("slogans:\n", "reminders: {send_at: 22h00}\nslogans:\n"), ":21: reminders.send_at: ", "giờ yên lặng"),
    "negative offset": (("slogans:\n", "reminders: {before_deadline: [3, -1]}\nslogans:\n"), ":21: reminders.before_deadline[2]: ", "lớn hơn hoặc bằng 0"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_each_bad_case_exits_2_with_its_line(tmp_path, capsys, case):
    (old, new), where, says = BAD_CASES[case]
    assert old in VALID
    status, lines = run_check(tmp_path, capsys, VALID.replace(old, new, 1))
    assert status == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith(str(tmp_path / "campaign.yaml") + where), lines
    assert says in lines[0]


def test_duplicate_form_codes_point_into_the_form_file(tmp_path, capsys):
    form = FORM.replace('code: "2"', 'code: "1.1"')
    status, lines = run_check(tmp_path, capsys, VALID, form)
    assert status == 2
    assert lines == [
        f"{tmp_path / 'form.yaml'}:8: sections[2].code: mã “1.1” bị trùng trong mẫu số liệu"
    ]


def test_a_pair_needs_a_two_part_unit(tmp_path, capsys):
    form = FORM.replace("unit: lớp/người", "unit: lớp/người, answer: pair").replace(
        "unit: lớp\n", "unit: lớp\n    answer: pair\n"
    )
    status, lines = run_check(tmp_path, capsys, VALID, form)
    assert status == 2
    assert lines == [
        f"{tmp_path / 'form.yaml'}:5: sections[1].unit: đơn vị tính “lớp” của cặp số phải có dạng “lớp/người”"
    ]


def test_every_error_is_reported_in_line_order(tmp_path, capsys):
    text = VALID.replace("week:\n", "wek: 1\nweek:\n").replace("end: 2024-10-07", "end: 2024-09-31")
    text = text.replace("- Học, học nữa, học mãi.", '- ""')
    status, lines = run_check(tmp_path, capsys, text)
    assert status == 2
    assert [line.split(": ")[0].rsplit(":", 1)[1] for line in lines] == ["4", "7", "24"]


def test_a_missing_file_is_reported_not_raised(tmp_path, capsys):
    status = main(["check", str(tmp_path / "nope.yaml")])
    assert status == 2
    assert "không đọc được tệp" in capsys.readouterr().out


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text\n"])
def test_a_file_that_is_not_a_mapping_is_reported(tmp_path, capsys, text):
    status, lines = run_check(tmp_path, capsys, text)
    assert status == 2
    assert lines == [
        f"{tmp_path / 'campaign.yaml'}:1: tệp phải là một bảng các dòng “khóa: giá trị”"
    ]


def test_python_dash_m_bot_works_as_loa(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(VALID.replace("week:\n", "wek:\n"), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check", str(SCHEDULES / SEEDS["brvt"]), str(bad)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "2022-ba-ria-vung-tau.yaml: hợp lệ" in result.stdout
    assert f"{bad}:4: wek: khóa không hợp lệ" in result.stdout
