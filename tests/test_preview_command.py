"""`loa preview`: the table by default, the JSON of docs/design.md with --json, per unit with --units."""

import json

import pytest

from bot.cli import main
from tests.conftest import SCHEDULES, SEEDS

CONTRACT_KINDS = {
    "deadline_reminder", "overdue", "opening_notice", "opening_agenda", "slogan",
    "week_start", "week_end", "data_prompt", "announcement",
}  # fmt: skip


def preview_json(capsys, *args):
    assert main(["preview", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_json_follows_the_contract(capsys, seed):
    rows = preview_json(capsys, str(SCHEDULES / SEEDS[seed]))
    assert rows
    for row in rows:
        assert set(row) == {"at", "kind", "audience", "template", "text"}
        assert row["kind"] in CONTRACT_KINDS
        assert row["at"].endswith("+07:00") and row["text"]
    assert [r["at"] for r in rows] == sorted(r["at"] for r in rows)


def test_brvt_agenda_before_eight_and_reminders_before_the_report(capsys):
    rows = preview_json(capsys, str(SCHEDULES / SEEDS["brvt"]))
    [agenda] = [r for r in rows if r["kind"] == "opening_agenda"]
    assert agenda["at"] == "2022-10-19T06:30:00+07:00"
    for when in ("7h30–8h00", "8h00–8h15", "8h15–8h30", "8h30–8h40", "8h40–8h50", "8h50–9h00",
                 "9h00–9h10", "9h10–9h20", "9h20–9h30"):  # fmt: skip
        assert when in agenda["text"]
    reminders = [r["at"] for r in rows if r["kind"] == "deadline_reminder"]
    assert reminders == [
        "2022-10-25T07:00:00+07:00", "2022-10-27T07:00:00+07:00", "2022-10-28T07:00:00+07:00",
    ]  # fmt: skip
    assert all(
        "trước ngày Thứ Bảy, 29/10/2022" in r["text"]
        for r in rows
        if r["kind"] == "deadline_reminder"
    )


def test_quan_12_slogans_and_reminders(capsys):
    rows = preview_json(capsys, str(SCHEDULES / SEEDS["quan-12"]))
    assert [r["at"][:10] for r in rows if r["kind"] == "slogan"] == [
        f"2021-10-0{day}" for day in range(1, 8)
    ]
    deadlines = {line.split("Hạn: ")[1].split(".")[0] for r in rows if r["kind"] == "deadline_reminder" for line in r["text"].splitlines() if line.startswith("Hạn: ")}  # fmt: skip
    assert deadlines == {
        "chậm nhất ngày Thứ Tư, 29/09/2021",
        "trước ngày Chủ Nhật, 10/10/2021",
        "trước ngày Thứ Sáu, 15/10/2021",
    }


def test_units_expand_the_json_per_unit(capsys):
    rows = preview_json(
        capsys,
        str(SCHEDULES / SEEDS["lac-thuy"]),
        "--units",
        str(SCHEDULES / "units" / "lac-thuy.csv"),
    )
    assert len(rows) == 6 * 19
    assert {r["audience"] for r in rows} == {
        "th-chi-ne", "thcs-chi-ne", "mn-an-binh", "thcs-khoan-du", "tthtcd-an-binh", "tthtcd-dong-tam",
    }  # fmt: skip
    assert all(r["text"].startswith("Kính gửi: ") for r in rows)


def test_the_table_lists_every_delivery(capsys):
    assert main(["preview", str(SCHEDULES / SEEDS["quan-12"])]) == 0
    out = capsys.readouterr().out
    assert "31 tin nhắn" in out  # 20, and the 11 parts of the standard form
    assert out.count("💡 Khẩu hiệu ngày") == 7
    assert "7h00 01/10/2021" in out and "Chương trình khai mạc" in out


def test_bad_units_file_exits_2_with_its_line(tmp_path, capsys):
    units = tmp_path / "units.csv"
    units.write_text("code,name,type\np1,UBND phường 1,phuong\n", encoding="utf-8")
    assert main(["preview", str(SCHEDULES / SEEDS["lac-thuy"]), "--units", str(units)]) == 2
    assert f"{units}:2: loại đơn vị “phuong” không có" in capsys.readouterr().err


def test_an_invalid_campaign_is_not_previewed(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n", encoding="utf-8")
    assert main(["preview", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:1: issuer: thiếu trường bắt buộc" in err


def test_a_missing_units_file_exits_2(tmp_path, capsys):
    missing = tmp_path / "none.csv"
    assert main(["preview", str(SCHEDULES / SEEDS["lac-thuy"]), "--units", str(missing)]) == 2
    assert f"{missing}:1: không đọc được tệp" in capsys.readouterr().err


def table_lines(out: str) -> list[str]:
    """The table's rows: every line after the header that starts with a time."""
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("Thời điểm"))
    return lines[header + 1 :]


def test_the_table_has_one_line_per_delivery(capsys):
    assert main(["preview", str(SCHEDULES / SEEDS["lac-thuy"])]) == 0
    rows = table_lines(capsys.readouterr().out)
    assert len(rows) == 19
    assert rows[0].startswith("7h00 29/09/2023        Thông báo khai mạc     all ")
    assert all(len(row) < 140 for row in rows)


def test_the_table_per_unit_has_one_line_per_delivery_and_unit(capsys):
    units = SCHEDULES / "units" / "lac-thuy.csv"
    assert main(["preview", str(SCHEDULES / SEEDS["lac-thuy"]), "--units", str(units)]) == 0
    rows = table_lines(capsys.readouterr().out)
    assert len(rows) == 6 * 19
    assert sum(" th-chi-ne " in row for row in rows) == 19
    assert all(len(row) < 140 for row in rows)
