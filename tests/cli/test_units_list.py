"""`loa units list` at a province's size: its table grows linearly with the units."""

import time
from types import SimpleNamespace

from bot.messages import render


def listings(count: int, chats: int = 0) -> list[SimpleNamespace]:
    chat = SimpleNamespace(platform="zalo", title="Cô Hạnh", kind="private", active=True)
    return [
        SimpleNamespace(
            unit=SimpleNamespace(
                code=f"th-{number:05d}",
                name=f"Trường Tiểu học số {number}",
                type="truong-hoc",
                registration_code="ABCDEF",
            ),
            chats=(chat,) * chats,
        )
        for number in range(count)
    ]


def test_ten_thousand_units_are_listed_in_well_under_two_seconds():
    many = listings(10_000)
    began = time.perf_counter()
    table = render("units_list", listings=many)
    seconds = time.perf_counter() - began
    assert seconds < 2, f"{seconds:.2f} s"  # about 0.1 s; 37 s when each row measured every row
    assert len(table.splitlines()) == 10_000 + 7


def test_columns_are_as_wide_as_their_longest_value():
    few = listings(3, chats=2)
    few[1].unit.name = "Trung tâm học tập cộng đồng xã Đồng Tâm"
    lines = render("units_list", listings=few).splitlines()
    header = next(line for line in lines if line.startswith("Mã"))
    assert header.index("Loại") == len("th-00000  ") + len(few[1].unit.name) + 2
    rows = [line for line in lines if line.startswith("th-")]
    assert [row.index("truong-hoc") for row in rows] == [header.index("Loại")] * 3
    assert sum(line.strip() == "zalo: Cô Hạnh (chat riêng)" for line in lines) == 3
