"""`loa units import` and `loa preview --units` read units as offices keep them: an Excel workbook,
or a CSV as Excel saves it (UTF-8 with or without BOM, UTF-16, Windows-1258; `,` or `;`)."""

import asyncio
import json
import unicodedata

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from bot.campaign.loader import load_units
from bot.campaign.units import Unit
from bot.cli import main
from bot.errors import Invalid
from bot.messages import describe
from bot.store.db import Database
from bot.store.models import Unit as StoredUnit
from tests.conftest import SCHEDULES

CAMPAIGN = SCHEDULES / "2023-lac-thuy.yaml"
ROWS = [
    ["code", "name", "type", "parent"],
    ["th-chi-ne", "Trường Tiểu học Chi Nê", "truong-hoc", "TT Chi Nê"],
    ["tthtcd-dong-tam", "Trung tâm học tập cộng đồng xã Đồng Tâm", "tthtcd", "xã Đồng Tâm"],
]
EXPECTED = [
    Unit("th-chi-ne", "Trường Tiểu học Chi Nê", "truong-hoc", "TT Chi Nê"),
    Unit("tthtcd-dong-tam", "Trung tâm học tập cộng đồng xã Đồng Tâm", "tthtcd", "xã Đồng Tâm"),
]


def csv_text(delimiter: str = ",", rows=ROWS) -> str:
    return "".join(delimiter.join(row) + "\r\n" for row in rows)


TONES = "\u0300\u0301\u0303\u0309\u0323"  # grave, acute, tilde, hook above, dot below


def windows_1258(text: str) -> bytes:
    """As Excel saves "CSV" on a Vietnamese Windows: the tone of a letter as a combining mark
    after it (code page 1258 has `ơ` but not `ờ`)."""
    letters = []
    for letter in text:
        parts = unicodedata.normalize("NFD", letter)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONES))
        letters.append(base + "".join(c for c in parts if c in TONES))
    return "".join(letters).encode("cp1258")


def workbook(path, rows=ROWS, title: str | None = None):
    book = Workbook()
    sheet = book.active
    if title:
        sheet.title = title
    for row in rows:
        sheet.append(row)
    book.create_sheet("Ghi chú").append(["not", "read"])
    book.save(path)
    return path


@pytest.mark.parametrize(
    ("name", "encode"),
    [
        ("utf8.csv", lambda: csv_text().encode("utf-8")),
        ("utf8-bom.csv", lambda: csv_text().encode("utf-8-sig")),
        ("utf16.csv", lambda: csv_text().encode("utf-16")),
        ("utf16-tabs.txt", lambda: csv_text("\t").encode("utf-16")),
        ("windows-1258.csv", lambda: windows_1258(csv_text())),
        ("semicolons.csv", lambda: csv_text(";").encode("utf-8-sig")),
        ("semicolons-1258.csv", lambda: windows_1258(csv_text(";"))),
    ],
)
def test_csv_as_excel_saves_it(tmp_path, name, encode):
    path = tmp_path / name
    path.write_bytes(encode())
    assert load_units(path) == EXPECTED


def test_windows_1258_is_composed_as_loa_stores_text(tmp_path):
    path = tmp_path / "units.csv"
    path.write_bytes(windows_1258(csv_text()))
    [school, _] = load_units(path)
    assert unicodedata.is_normalized("NFC", school.name) and "ờ" in school.name


def test_an_xlsx_first_sheet_with_its_header_row(tmp_path):
    assert load_units(workbook(tmp_path / "don-vi.xlsx", title="Danh sách")) == EXPECTED


def test_an_xlsx_renamed_csv_is_still_read_as_a_workbook(tmp_path):
    assert load_units(workbook(tmp_path / "don-vi.csv")) == EXPECTED


def test_xlsx_numbers_read_as_typed_and_problems_name_the_sheet_row(tmp_path):
    rows = [
        *ROWS[:2],
        [None] * 4,
        [2024, "Trường số 2024", "truong-hoc", None],
        ["x y", "Tên", "truong-hoc"],
    ]
    path = workbook(tmp_path / "don-vi.xlsx", rows)
    with pytest.raises(Invalid) as caught:
        load_units(path)
    assert [describe(p) for p in caught.value.problems] == [
        f"{path}:5: mã đơn vị “x y” không hợp lệ: mã chỉ gồm chữ cái không dấu, chữ số và các dấu - _ . (bắt đầu bằng chữ hoặc số, tối đa 64 ký tự), ví dụ: th-chi-ne"
    ]
    rows[-1][0] = "th-5"
    assert [u.code for u in load_units(workbook(path, rows))] == ["th-chi-ne", "2024", "th-5"]


@pytest.mark.parametrize(
    "code",
    [
        '=HYPERLINK("http://x.example/","bấm")',
        "+1",
        "-th",
        "@sum",
        "th chi ne",
        "th/1",
        "trường-a",
        "a" * 65,
    ],
)
def test_unit_codes_are_letters_digits_and_dashes_dots_underscores(tmp_path, code):
    path = tmp_path / "units.csv"
    path.write_text(
        f'code,name,type\nth-1,A,truong-hoc\n"{code.replace(chr(34), 2 * chr(34))}",B,truong-hoc\n',
        encoding="utf-8",
    )
    with pytest.raises(Invalid) as caught:
        load_units(path)
    [problem] = caught.value.problems
    assert (problem.code, problem.line) == ("units_code_format", 3)
    assert describe(problem).startswith(f"{path}:3: mã đơn vị “{code}” không hợp lệ")


def test_good_codes_of_every_allowed_kind(tmp_path):
    path = tmp_path / "units.csv"
    path.write_text("code,name,type\nTH-UPPER,A,t\nth_1.2,B,t\n7,C,t\n", encoding="utf-8")
    assert [u.code for u in load_units(path)] == ["TH-UPPER", "th_1.2", "7"]


def test_codes_differing_only_in_case_are_one_code(tmp_path):
    path = tmp_path / "units.csv"
    path.write_text("code,name,type\nth-a,A,t\nTH-A,B,t\n", encoding="utf-8")
    with pytest.raises(Invalid) as caught:
        load_units(path)
    assert [(p.code, p.line) for p in caught.value.problems] == [("units_duplicate", 3)]


def test_one_commune_spelt_two_ways_is_one_parent_as_first_spelt(tmp_path):
    """Typed by hand, "xã An Bình" comes back as "Xã An  Bình" or "xa an binh": one commune for
    the subtotals, the overview and /tiendo, as it is for a scoped LOA_ADMINS entry."""
    path = tmp_path / "units.csv"
    rows = [
        "a,A,t,xã An Bình",
        "b,B,t,Xã An  Bình ",
        "c,C,t,xa an binh",
        "d,D,t,xã Đồng Tâm",
        "e,E,t,",
    ]
    path.write_text("code,name,type,parent\n" + "\n".join(rows) + "\n", encoding="utf-8")
    parents = [unit.parent for unit in load_units(path)]
    assert parents == ["xã An Bình", "xã An Bình", "xã An Bình", "xã Đồng Tâm", None]


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "đây là tệp Excel 97-2003 (.xls)"),
        (b"PK\x03\x04 not really a zip", "không phải tệp Excel .xlsx đọc được"),
        (
            "code,name,type\n".encode("utf-16-le")[:-1] + b"\xff\xfe\x00\xd8",
            "không đọc được chữ trong tệp",
        ),
    ],
)
def test_files_that_are_not_units_are_explained(tmp_path, content, said):
    path = tmp_path / "units.xlsx"
    path.write_bytes(b"\xff\xfe" + content if said.startswith("không đọc được chữ") else content)
    with pytest.raises(Invalid) as caught:
        load_units(path)
    [problem] = caught.value.problems
    assert describe(problem).startswith(f"{path}:1: {said}")


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'loa.db'}")
    for name in ("LOA_CAMPAIGN", "LOA_ADMINS"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


async def stored(url: str) -> list[tuple[str, str]]:
    async with Database(url) as db, db.session() as session:
        return [
            (u.code, u.name)
            for u in await session.scalars(select(StoredUnit).order_by(StoredUnit.code))
        ]


def test_units_import_takes_a_workbook(env, capsys):
    path = workbook(env / "don-vi.xlsx")
    assert main(["units", "import", str(path), "--campaign", str(CAMPAIGN)]) == 0
    assert "2 đơn vị mới" in capsys.readouterr().out
    assert asyncio.run(stored(f"sqlite:///{env / 'loa.db'}")) == [
        (u.code, u.name) for u in EXPECTED
    ]


def test_a_hyperlink_code_is_refused_and_nothing_is_written(env, capsys):
    path = env / "don-vi.csv"
    path.write_text(
        'code,name,type\nth-a,A,truong-hoc\n"=HYPERLINK(""http://x/"")",B,truong-hoc\n',
        encoding="utf-8",
    )
    assert main(["units", "import", str(path)]) == 2
    assert capsys.readouterr().err.startswith(f"{path}:3: mã đơn vị “=HYPERLINK(")
    assert not (env / "loa.db").exists()


def test_a_misspelt_type_is_refused_when_loa_campaign_is_set_in_dotenv(env, capsys):
    (env / ".env").write_text(f"LOA_CAMPAIGN={CAMPAIGN}\n", encoding="utf-8")
    path = env / "don-vi.csv"
    path.write_bytes(windows_1258("code,name,type\nth-a,Trường A,truong-hco\n"))
    assert main(["units", "import", str(path)]) == 2
    assert f"{path}:2: loại đơn vị “truong-hco” không có trong audiences" in capsys.readouterr().err


def test_campaign_given_wins_over_loa_campaign(env, monkeypatch, capsys):
    other = env / "other.yaml"
    other.write_text(
        CAMPAIGN.read_text(encoding="utf-8").replace("truong-hoc", "truong-hco"), encoding="utf-8"
    )
    monkeypatch.setenv("LOA_CAMPAIGN", str(CAMPAIGN))
    path = env / "don-vi.csv"
    path.write_text("code,name,type\nth-a,Trường A,truong-hco\n", encoding="utf-8")
    assert main(["units", "import", str(path), "--campaign", str(other)]) == 0, (
        capsys.readouterr().err
    )


def test_preview_expands_over_a_workbook(tmp_path, capsys):
    path = workbook(tmp_path / "don-vi.xlsx")
    assert main(["preview", str(CAMPAIGN), "--units", str(path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {row["audience"] for row in rows} == {"th-chi-ne", "tthtcd-dong-tam"}


def test_an_xlsx_table_below_a_blank_top_and_right_of_a_blank_column(tmp_path):
    book = Workbook()
    for row in ROWS:
        book.active.append([None, *row])
    book.active.insert_rows(1, 2)
    book.active["B6"] = "thcs-chi-ne"  # a row without its name: the sheet's row 6
    path = tmp_path / "don-vi.xlsx"
    book.save(path)
    with pytest.raises(Invalid) as caught:
        load_units(path)
    assert [(p.code, p.line) for p in caught.value.problems] == [("units_empty", 6)]
