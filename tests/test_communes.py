"""Units grouped by their parent (the commune or ward, since July 2025 the level under the
province): the export's groups and subtotals (pure), and each file showing them: the XLSX's
subtotal sheets, the DOCX's table of parents, the CSV's column."""

import csv
import datetime as dt
import io

from docx import Document
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from bot.campaign.loader import load_campaign
from bot.campaign.units import by_parent
from bot.documents.formats import writer
from bot.stats import table
from bot.stats.export import Export
from bot.stats.table import UnitSheet
from tests.conftest import SCHEDULES

CAMPAIGN = load_campaign(SCHEDULES / "2023-lac-thuy.yaml")
assert CAMPAIGN.form is not None
FORM = CAMPAIGN.form
AT = dt.datetime(2023, 10, 12, 9, 30, tzinfo=CAMPAIGN.tz)
ROWS = table.answerable(FORM)
SHEETS = [
    UnitSheet("a1", "Trường A1", "truong-hoc", {"1": (3,), "1.2": (2, 80), "11": "Kể chuyện"},
              "xã An Bình"),
    UnitSheet("b1", "Trường B1", "truong-hoc", {"1": (4,), "1.2": (1, 20)}, "phường Chi Nê"),
    UnitSheet("a2", "Trường A2", "tthtcd", {"1": (5,), "11": "Hội thi"}, " xã An Bình "),
    UnitSheet("z", "Không xã", "tthtcd", {"1": (1,)}),
    UnitSheet("y", "Xã trống", "tthtcd", {}, "  "),
]  # fmt: skip
NO_PARENT = "Không thuộc xã/phường nào"


def export(sheets=SHEETS) -> Export:
    return Export(CAMPAIGN, sheets, AT)


def written(fmt: str, sheets=SHEETS) -> bytes:
    out = io.BytesIO()
    writer(fmt)(export(sheets), out)
    return out.getvalue()


def test_groups_keep_the_parents_first_order_and_put_the_units_without_one_last():
    groups = export().groups
    assert [(g.parent, [s.code for s in g.sheets]) for g in groups] == [
        ("xã An Bình", ["a1", "a2"]),
        ("phường Chi Nê", ["b1"]),
        (None, ["z", "y"]),
    ]
    an_binh = groups[0]
    assert an_binh.totals["1"] == (8,)
    assert an_binh.totals["11"] == "Trường A1: Kể chuyện\nTrường A2: Hội thi"
    assert an_binh.counts[table.Completion.PARTIAL] == 2
    assert "1.2" not in groups[2].totals  # nobody answered it: empty, not 0


def test_no_groups_when_no_unit_names_a_parent():
    assert export([UnitSheet("z", "Z", "tthtcd", {"1": (1,)})]).groups == []
    assert by_parent([], lambda item: item) == []


parents = st.sampled_from([None, "", "xã A", "xã B", "phường C"])
figures = st.dictionaries(
    st.sampled_from([row.code for row in ROWS if row.answer in ("count", "pair")]),
    st.tuples(st.integers(0, 10_000), st.integers(0, 10_000)),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(parents, figures), max_size=12))
def test_subtotals_sum_to_the_province_totals(units):
    sheets = [
        UnitSheet(f"u{i}", f"Đơn vị {i}", "truong-hoc", answers, parent)
        for i, (parent, answers) in enumerate(units)
    ]
    made = export(sheets)
    if not any((parent or "").strip() for parent, _ in units):
        assert made.groups == []
        return
    assert sorted(s.code for g in made.groups for s in g.sheets) == sorted(s.code for s in sheets)
    for row in ROWS:
        parts = [g.totals[row.code] for g in made.groups if row.code in g.totals]
        if row.code not in made.totals:
            assert parts == []
            continue
        summed = [sum(part[i] for part in parts) for i in range(len(made.totals[row.code]))]
        assert tuple(summed) == made.totals[row.code]
    for completion in table.Completion:
        assert sum(g.counts[completion] for g in made.groups) == made.counts[completion]


def test_xlsx_has_the_totals_then_a_subtotal_sheet_per_parent_then_the_units():
    book = load_workbook(io.BytesIO(written("xlsx")))
    assert book.sheetnames == [
        "Tổng hợp", "xã An Bình", "phường Chi Nê", "Không thuộc xã-phường", "a1", "b1", "a2", "z",
        "y",
    ]  # fmt: skip
    an_binh = book["xã An Bình"]
    assert an_binh["A3"].value.startswith("xã An Bình: tổng hợp 2 đơn vị")
    line = 7 + [row.code for row in FORM.rows()].index("1")
    assert (an_binh.cell(line, 4).value, book["Tổng hợp"].cell(line, 4).value) == (8, 13)
    note = 7 + [row.code for row in FORM.rows()].index("11")
    assert an_binh.cell(note, 6).value == "Trường A1: Kể chuyện\nTrường A2: Hội thi"
    assert an_binh.row_dimensions[note].height > book["a1"].row_dimensions[note].height
    assert an_binh.print_title_rows == "$5:$6"  # printed as every sheet is
    assert str(an_binh.page_setup.paperSize) == an_binh.PAPERSIZE_A4
    assert book[NO_PARENT.replace("/", "-").removesuffix(" nào")]["A3"].value.startswith(NO_PARENT)


def test_xlsx_parent_sheet_titles_are_ones_excel_accepts():
    long = "phường Nguyễn Thái Bình [khu]: phố * / ? mới"
    sheets = [
        UnitSheet("u1", "U1", "truong-hoc", {}, long),
        UnitSheet("u2", "U2", "truong-hoc", {}, long.upper()),
        UnitSheet("u3", "U3", "truong-hoc", {}, "Tổng hợp"),
        UnitSheet("u4", "U4", "truong-hoc", {}, "'u1'"),
    ]
    titles = load_workbook(io.BytesIO(written("xlsx", sheets))).sheetnames
    assert len(titles) == 1 + 4 + 4
    assert len({t.lower() for t in titles}) == len(titles)
    for title in titles:
        assert len(title) <= 31 and not set(title) & set("[]:*?/\\")
        assert not title.startswith("'") and not title.endswith("'")


def test_xlsx_without_parents_is_as_before():
    sheets = [UnitSheet("z", "Z", "tthtcd", {"1": (1,)})]
    assert load_workbook(io.BytesIO(written("xlsx", sheets))).sheetnames == ["Tổng hợp", "z"]


def test_docx_shows_each_parent_with_its_units_figures():
    document = Document(io.BytesIO(written("docx")))
    texts = [p.text for p in document.paragraphs]
    assert "5. Tình hình gửi số liệu theo xã, phường" in texts
    _letterhead, _totals, parents, _signature = document.tables
    rows = [[cell.text for cell in row.cells] for row in parents.rows]
    assert rows[0] == ["STT", "Xã/phường", "Số đơn vị", "Đủ số liệu", "Đang nhập", "Chưa gửi"]
    assert rows[1:] == [
        ["1", "xã An Bình", "2", "0", "2", "0"],
        ["2", "phường Chi Nê", "1", "0", "1", "0"],
        ["3", NO_PARENT, "2", "0", "1", "1"],
    ]


def test_docx_without_parents_has_no_table_of_them():
    document = Document(io.BytesIO(written("docx", [UnitSheet("z", "Z", "tthtcd", {})])))
    assert len(document.tables) == 3
    assert not any(p.text.startswith("5. ") for p in document.paragraphs)


def test_csv_ends_each_line_with_the_units_parent():
    lines = list(csv.reader(io.StringIO(written("csv").decode("utf-8-sig"))))
    assert lines[0][-1] == "Xã/phường"
    parent = {line[0]: line[-1] for line in lines[1:]}
    assert parent == {"a1": "xã An Bình", "b1": "phường Chi Nê", "a2": " xã An Bình ", "z": "",
                      "y": "  "}  # fmt: skip


def plainly_summed(sheets: list[UnitSheet]) -> dict[str, object]:
    """`table.totals` as the form reads, one value at a time: the reference for the fast one."""
    result: dict[str, object] = {}
    for row in ROWS:
        given = [
            (s.name, s.answers[row.code]) for s in sheets if s.answers.get(row.code) is not None
        ]
        numbers = [value for _, value in given if not isinstance(value, str)]
        if numbers:
            width = len(numbers[0])
            result[row.code] = tuple(
                sum(value[i] for value in numbers if i < len(value)) for i in range(width)
            )
        texts = [f"{name}: {value}" for name, value in given if isinstance(value, str)]
        if texts:
            result[row.code] = "\n".join(texts)
    return result


values = st.one_of(
    st.none(),
    st.text(min_size=1, max_size=5),
    st.lists(st.integers(0, 10_000), min_size=1, max_size=3).map(tuple),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.dictionaries(st.sampled_from([row.code for row in ROWS[:6]] + ["không-có"]), values),
        max_size=8,
    )
)
def test_totals_and_counts_are_what_reading_the_form_row_by_row_says(answers):
    """Any mix: figures of one, two or three parts (summed as long as the first one), texts,
    empty answers and codes the form does not have."""
    sheets = [UnitSheet(f"u{i}", f"Đơn vị {i}", "truong-hoc", a) for i, a in enumerate(answers)]
    assert table.totals(FORM, sheets) == plainly_summed(sheets)
    expected = dict.fromkeys(table.Completion, 0)
    for sheet in sheets:
        expected[table.completion(FORM, sheet.answers)] += 1
    assert table.counts(FORM, sheets) == expected
