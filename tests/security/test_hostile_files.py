"""Booby-trapped files (issue 14, item 5): a YAML alias bomb and a .docx zip bomb are refused with
the usual `FILE:LINE` or a Vietnamese reason, exit 2, quickly and in little memory; PyYAML's
English syntax errors come after a Vietnamese explanation. Full-size figures: bench/hostile_files.py.
"""

import struct
import time
import tracemalloc
import zipfile

import pytest

from bot.campaign.yamlfile import YamlProblem, read_yaml
from bot.cli import main
from tests.plan.conftest import seed_text, word_file


def billion_laughs(depth: int = 9) -> str:
    """342 bytes that expand to 9**9 strings."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=False):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines[:depth]) + "\n"


def bounded(run):
    """`run()`, its seconds and its peak of Python memory in MB."""
    tracemalloc.start()
    began = time.perf_counter()
    try:
        result = run()
        return result, time.perf_counter() - began, tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def test_a_yaml_alias_bomb_is_a_located_problem_at_once(tmp_path, capsys):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(billion_laughs())
    assert len(bomb.read_bytes()) == 342

    status, seconds, megabytes = bounded(lambda: main(["check", str(bomb)]))

    assert status == 2
    assert seconds < 2 and megabytes < 50
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith(f"{bomb}:6: ") and "tham chiếu" in line


def test_aliases_within_reason_still_work():
    doc = read_yaml("base: &b [1, 2]\nmore: *b\n")
    assert doc.data == {"base": [1, 2], "more": [1, 2]}


def test_an_alias_that_holds_itself_is_a_problem():
    with pytest.raises(YamlProblem) as caught:
        read_yaml("a: &x [*x]\n")
    assert caught.value.code == "yaml_alias_loop"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "a: [1, 2\nb: 3\n",
            "thiếu dấu phẩy “,” giữa hai mục, hoặc thiếu dấu “]” đóng danh sách"
            " (expected ',' or ']', but got ':')",
        ),
        ("a:\n  b: 1\n c: 2\n", "thụt lề không khớp với các dòng trên (expected <block end>"),
        ("\tname: x\n", "có ký tự tab"),
        ("a: b: c\n", "dấu hai chấm “:” không được đứng ở đây"),
    ],
)
def test_yaml_syntax_errors_say_first_in_vietnamese_what_is_wrong(tmp_path, capsys, text, said):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    assert main(["check", str(bad)]) == 2
    assert f"lỗi cú pháp YAML: {said}" in capsys.readouterr().out


def docx_with_a_bomb(path, size: int):
    """A genuine plan document with one more part: `size` zeros, deflated to a few KB."""
    word_file(seed_text("quan-12"), path)
    with (
        zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("word/media/zeros.bin", "w") as part,
    ):
        for _ in range(size // 2**20):
            part.write(bytes(2**20))
    return path


def test_a_docx_zip_bomb_is_refused_before_it_is_inflated(tmp_path, capsys):
    bomb = docx_with_a_bomb(tmp_path / "ke-hoach.docx", 16 * 2**20)
    assert bomb.stat().st_size < 100_000

    status, seconds, megabytes = bounded(lambda: main(["import-plan", str(bomb)]))

    assert status == 2
    assert seconds < 2 and megabytes < 10
    assert "lớn bất thường" in capsys.readouterr().err


def test_a_docx_declaring_a_gigabyte_is_refused(tmp_path, capsys):
    """The sizes are read from the archive's directory, whatever the data would inflate to."""
    path = word_file(seed_text("quan-12"), tmp_path / "ke-hoach.docx")
    data = bytearray(path.read_bytes())
    entry = data.index(b"PK\x01\x02", data.index(b"word/document.xml") - 100)
    data[entry + 24 : entry + 28] = struct.pack("<I", 2**30)  # its uncompressed size
    path.write_bytes(bytes(data))

    assert main(["import-plan", str(path)]) == 2
    assert "giải nén ra tới 1.02" in capsys.readouterr().err  # MB: the gigabyte and the rest


def test_an_enormous_text_plan_is_refused_unread(tmp_path, capsys):
    path = tmp_path / "ke-hoach.txt"
    with path.open("wb") as out:
        out.truncate(65 * 2**20)  # sparse: no disk, and no time to make

    status, seconds, megabytes = bounded(lambda: main(["import-plan", str(path)]))

    assert status == 2 and seconds < 2 and megabytes < 10
    assert "quá lớn so với một văn bản kế hoạch" in capsys.readouterr().err


def test_a_genuine_plan_document_is_still_read(tmp_path, capsys):
    path = word_file(seed_text("quan-12"), tmp_path / "ke-hoach.docx")
    assert main(["import-plan", str(path), "--json"]) == 0
