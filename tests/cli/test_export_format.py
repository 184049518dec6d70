"""`loa export`: the format follows the file's extension; a format and an extension that disagree
are refused before anything is read or written."""

import zipfile

import pytest

from bot.cli import main
from tests.conftest import SCHEDULES

CAMPAIGN = SCHEDULES / "2023-lac-thuy.yaml"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'loa.db'}")
    monkeypatch.delenv("LOA_CAMPAIGN", raising=False)
    return tmp_path


def export(*args: str) -> int:
    return main(["export", "--campaign", str(CAMPAIGN), *args])


def test_a_csv_name_gets_a_csv(folder):
    assert export("-o", "tong-hop.csv") == 0
    written = (folder / "tong-hop.csv").read_bytes()
    assert not zipfile.is_zipfile(folder / "tong-hop.csv")
    assert b"," in written.splitlines()[0]


@pytest.mark.parametrize("name", ["bao-cao.docx", "BANG.XLSX"])
def test_office_names_get_their_format(folder, name):
    assert export("-o", name) == 0
    with zipfile.ZipFile(folder / name) as archive:
        expected = "word/document.xml" if name.endswith("docx") else "xl/workbook.xml"
        assert expected in archive.namelist()


def test_without_a_name_the_table_is_an_xlsx(folder):
    assert export() == 0
    assert zipfile.is_zipfile(folder / "tong-hop-2023-lac-thuy.xlsx")


def test_a_format_without_a_name_names_the_file_after_it(folder):
    assert export("--format", "csv") == 0
    assert (folder / "tong-hop-2023-lac-thuy.csv").is_file()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--format", "xlsx", "-o", "x.pdf"], "“x.pdf” có đuôi .pdf nhưng định dạng là xlsx"),
        (["--format", "csv", "-o", "x.xlsx"], "“x.xlsx” có đuôi .xlsx nhưng định dạng là csv"),
        (["-o", "x.pdf"], "không xuất được định dạng .pdf"),
        (["-o", "tong-hop"], "“tong-hop” không có đuôi"),
    ],
)
def test_a_format_the_name_contradicts_is_refused(folder, capsys, args, said):
    assert export(*args) == 2
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err
    assert sorted(p.name for p in folder.iterdir()) == []  # not even the database


def test_a_folder_as_the_output_is_said_in_vietnamese(folder, capsys):
    (folder / "bao-cao").mkdir()
    assert export("--format", "xlsx", "-o", "bao-cao") == 2
    err = capsys.readouterr().err
    assert "bao-cao không phải một tệp thường (là thư mục" in err and "Is a directory" not in err
