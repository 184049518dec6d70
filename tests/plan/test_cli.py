"""`loa import-plan DOC [-o OUT.yaml] [--json]`: the contract of docs/design.md, exit 2 when a file
cannot be read, and a draft that `loa check` accepts with every gap commented."""

import json
import zipfile

import pytest
import yaml

from bot.campaign.loader import load_campaign
from bot.cli import main
from tests.conftest import SCHEDULES
from tests.conftest import SEEDS as CAMPAIGNS
from tests.plan.conftest import FORMATS, SEEDS, word_file

CONTRACT_KEYS = {"theme", "week_start", "week_end", "opening", "deadlines", "slogans", "agenda"}
CASES = [(seed, fmt) for seed in SEEDS for fmt in FORMATS]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(["import-plan", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("seed", SEEDS)
def test_json_prints_exactly_the_contract(seed_files, capsys, seed):
    status, out, _ = run(capsys, str(seed_files[seed, "docx"]), "--json")
    assert status == 0
    plan = json.loads(out)
    assert set(plan) == CONTRACT_KEYS
    if plan["opening"] is not None:
        assert set(plan["opening"]) == {"date", "time", "place"}
    assert all(set(d) == {"what", "date", "audience"} for d in plan["deadlines"])
    assert all(set(row) == {"start", "end", "item", "by"} for row in plan["agenda"])


def test_without_options_it_says_what_it_read(seed_files, capsys):
    status, out, _ = run(capsys, str(seed_files["quan-12", "txt"]))
    assert status == 0
    assert "Tuần lễ: Thứ Sáu, 01/10/2021 – Thứ Năm, 07/10/2021" in out
    assert "Lễ khai mạc: 8h00, Thứ Sáu, 01/10/2021, trực tuyến" in out
    assert "chậm nhất ngày 29/09/2021: Kế hoạch về Ủy ban nhân dân quận" in out
    assert "Khẩu hiệu: 11" in out
    assert "-o TEN-TEP.yaml" in out


@pytest.mark.parametrize(("seed", "fmt"), CASES)
def test_the_draft_passes_check_and_agrees_with_the_hand_written_campaign(
    seed_files, tmp_path, capsys, seed, fmt
):
    out = tmp_path / f"{seed}.yaml"
    status, printed, _ = run(capsys, str(seed_files[seed, fmt]), "-o", str(out))
    assert status == 0 and f"loa check {out}" in printed
    assert main(["check", str(out)]) == 0, capsys.readouterr().out
    drafted, by_hand = load_campaign(out), load_campaign(SCHEDULES / CAMPAIGNS[seed])
    assert drafted.week == by_hand.week
    assert drafted.theme == by_hand.theme
    assert _ceremony(drafted) == _ceremony(by_hand)
    assert _dues(drafted) == _dues(by_hand)
    assert drafted.slogans.items == by_hand.slogans.items
    assert drafted.issued == by_hand.issued and drafted.document == by_hand.document


def _ceremony(campaign):
    opening = campaign.opening
    rows = [(row.start, row.end, row.item, row.by) for row in opening.agenda]
    participants = [who.rstrip(".") for who in opening.participants]  # 002 by hand keeps "."
    return opening.date, opening.time, opening.online, participants, rows


def _dues(campaign):
    return [(d.date, d.before, d.kind) for d in campaign.deadlines]


UNSTATED = {
    # seed: comments the draft must carry for what the plan leaves out
    "gia-lam": [
        "# document:",
        "# issued:",
        "  # date: the plan gives no date",
        "  # time: the plan gives no time",
        "  # place:",
        "  # agenda:",
        "# slogans:",
    ],
    "lac-thuy": ["# document:", "# issued:", "  # agenda:", "# slogans:"],
    "quan-12": [],
    "khanh-hoa": [
        "# theme: the plan only suggests themes",
        "  # time: the plan gives no time",
        "  # place:",
        "  # participants:",
        "  # agenda:",
        "# audiences:",
        "# deadlines: the plan sets none",
        "# slogans:",
    ],
    "brvt": ["# slogans:"],
}


@pytest.mark.parametrize("seed", SEEDS)
def test_every_field_the_plan_does_not_state_is_commented(seed_files, tmp_path, capsys, seed):
    out = tmp_path / "draft.yaml"
    run(capsys, str(seed_files[seed, "txt"]), "-o", str(out))
    text = out.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    for comment in UNSTATED[seed]:
        assert any(line.startswith(comment) for line in text.splitlines()), comment
    for key in ("document", "issued", "theme", "opening", "deadlines", "slogans", "audiences"):
        stated = key in data or (key == "theme" and "suggested_themes" in data)
        assert stated or f"# {key}:" in text, key
    assert "# drafted" in text.split("name:", 1)[1].splitlines()[0]  # the name is not the plan's
    assert "# drafted" in text.split("issuer:", 1)[1].splitlines()[0]


def test_a_plan_without_a_week_drafts_a_commented_blank(tmp_path, capsys):
    doc = tmp_path / "plan.md"
    doc.write_text("# KẾ HOẠCH\n\nChủ đề: “Học tập suốt đời”\n", encoding="utf-8")
    out = tmp_path / "draft.yaml"
    assert run(capsys, str(doc), "-o", str(out))[0] == 0
    text = out.read_text(encoding="utf-8")
    assert 'theme: "Học tập suốt đời"' in text
    assert "week:  # the plan gives no dates for the week" in text
    assert 'issuer: "Cơ quan ban hành"  # the plan does not name its issuer' in text


def _zip_without_word(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a Word document")


BAD_FILES = {
    "an unsupported kind": ("plan.pdf", b"%PDF-1.4", "không đọc được loại tệp “.pdf”"),
    "an old Word file": ("plan.doc", b"\xd0\xcf\x11\xe0", "lưu thành .docx"),
    "a corrupted Word file": ("plan.docx", b"PK\x03\x04 broken", "không phải tệp Word .docx"),
    "a zip that is not Word": ("plan.docx", _zip_without_word, "không phải tệp Word .docx"),
    "text not in UTF-8": ("plan.txt", b"Tu\xe2n l\xea", "bảng mã UTF-8"),  # a legacy code page
    "an empty file": ("plan.md", b"  \n\n", "không có chữ nào"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_an_unreadable_file_exits_2_with_a_clear_message(tmp_path, capsys, case):
    name, content, says = BAD_FILES[case]
    path = tmp_path / name
    if callable(content):
        content(path)
    else:
        path.write_bytes(content)
    status, out, err = run(capsys, str(path), "--json")
    assert status == 2 and out == ""
    assert err.startswith(f"{path}: ") and says in err, err


def test_a_missing_file_or_a_folder_exits_2(tmp_path, capsys):
    assert run(capsys, str(tmp_path / "nowhere.docx"))[2].endswith("không có tệp này\n")
    folder = tmp_path / "plan.txt"
    folder.mkdir()
    status, _, err = run(capsys, str(folder))
    assert status == 2 and "thư mục" in err


def test_a_draft_that_cannot_be_written_exits_2(seed_files, tmp_path, capsys):
    out = tmp_path / "missing-folder" / "draft.yaml"
    status, _, err = run(capsys, str(seed_files["brvt", "txt"]), "-o", str(out))
    assert status == 2 and err.startswith(f"không ghi được bản nháp vào {out}")


def test_markdown_tables_and_word_tables_read_alike(tmp_path, capsys):
    markdown = tmp_path / "plan.md"
    markdown.write_text(
        "| Thời gian | Nội dung | Người thực hiện |\n"
        "|---|:---:|---|\n"
        "| 7h30-8h00 | **Đón tiếp** | Ban tổ chức |\n"
        "| 8h00-8h15 | Văn nghệ | |\n",
        encoding="utf-8",
    )
    word = word_file(
        "Chương trình Lễ khai mạc\n"
        "Thời gian\tNội dung\tNgười thực hiện\n"
        "7h30-8h00\tĐón tiếp\tBan tổ chức\n"
        "8h00-8h15\tVăn nghệ\t\n",
        tmp_path / "plan.docx",
    )
    agendas = []
    for path in (markdown, word):
        status, out, _ = run(capsys, str(path), "--json")
        assert status == 0
        agendas.append(json.loads(out)["agenda"])
    expected = [
        {"start": "07:30", "end": "08:00", "item": "Đón tiếp", "by": "Ban tổ chức"},
        {"start": "08:00", "end": "08:15", "item": "Văn nghệ", "by": None},
    ]
    assert agendas == [expected, expected]
