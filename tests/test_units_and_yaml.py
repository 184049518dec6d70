"""Units CSV and the YAML reader: bad input gives located errors, never a traceback."""

import pytest

from bot.campaign.units import Unit, read_units
from bot.campaign.yamlfile import YamlProblem, read_yaml
from bot.errors import Invalid
from bot.messages import describe

GOOD = "code,name,type,parent\nth-a,Trường TH A,truong-hoc,xã A\ntt-b,TTHTCĐ xã B,tthtcd,\n"


def test_units_are_read_in_order():
    assert read_units(GOOD) == [
        Unit("th-a", "Trường TH A", "truong-hoc", "xã A"),
        Unit("tt-b", "TTHTCĐ xã B", "tthtcd", None),
    ]


def test_a_byte_order_mark_from_excel_is_ignored():
    assert len(read_units("\ufeff" + GOOD)) == 2


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("ma,ten\nx,y\n", 1, "dòng tiêu đề thiếu cột: code, name, type"),
        (GOOD + "th-c,,truong-hoc\n", 4, "thiếu giá trị: name"),
        (GOOD + "th-a,Trường TH A lần hai,truong-hoc\n", 4, "mã đơn vị “th-a” bị trùng"),
        (GOOD + "x,y,truong-hoc,p,extra\n", 4, "có 5 cột, nhiều hơn tiêu đề (4 cột)"),
        (GOOD + "p1,UBND phường 1,phuong\n", 4, "loại đơn vị “phuong” không có trong audiences"),
    ],
)
def test_bad_unit_rows_name_their_line(text, line, says):
    with pytest.raises(Invalid) as caught:
        read_units(text, "units.csv", types={"truong-hoc", "tthtcd"})
    [problem] = caught.value.problems
    assert describe(problem).startswith(f"units.csv:{line}: {says}")


def test_times_and_dates_stay_text_for_the_model():
    doc = read_yaml("a: 8:00\nb: 2023-10-02\nc: 12\nd: 1.5\ne: true\n")
    assert doc.data == {"a": "8:00", "b": "2023-10-02", "c": 12, "d": 1.5, "e": True}


def test_lines_are_recorded_for_keys_and_items():
    doc = read_yaml("week:\n  start: x\nitems:\n  - a\n  - {b: 1}\n")
    assert doc.lines[("week", "start")] == 2
    assert doc.lines[("items", 1)] == 5
    assert doc.line_of(("items", 1, "b", "deeper")) == 5


@pytest.mark.parametrize(
    ("text", "line", "code"),
    [
        ("a: 1\na: 2\n", 2, "yaml_duplicate_key"),
        ('a: 1\nb: "never closed\nc: 3\n', 2, "yaml_syntax"),
        ("a: [1, 2\nb: 3\n", 1, "yaml_syntax"),
        ("a:\n  b: 1\n c: 2\n", 3, "yaml_syntax"),
        ("\tname: x\n", 1, "yaml_syntax"),
    ],
)
def test_yaml_problems_are_located(text, line, code):
    with pytest.raises(YamlProblem) as caught:
        read_yaml(text)
    assert (caught.value.line, caught.value.code) == (line, code)


@pytest.mark.parametrize(
    "text",
    [
        "name: !!python/name:os.system\n",
        "name: !!int abc\n",
        "d: !!timestamp 2023-02-30\n",
        "? [a, b]\n: 1\n",
        "a: &x [*x]\n",
    ],
)
def test_hostile_yaml_is_a_located_problem_not_a_traceback(text):
    with pytest.raises(YamlProblem) as caught:
        read_yaml(text)
    assert caught.value.code in ("yaml_syntax", "yaml_alias_loop")


def test_line_numbers_survive_a_quoted_cell_over_two_lines():
    text = 'code,name,type\nth-a,"Trường TH A\n(cơ sở 2)",truong-hoc\nth-b,,truong-hoc\n'
    with pytest.raises(Invalid) as caught:
        read_units(text, "units.csv")
    assert describe(caught.value.problems[0]).startswith("units.csv:4: thiếu giá trị: name")
