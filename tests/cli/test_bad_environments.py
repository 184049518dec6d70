"""What a new user meets at the command line when something around Loa is wrong: a Vietnamese
sentence saying what and what to do, the system's words after it at most, an exit code, and
never a traceback."""

import os
import sqlite3
import subprocess
import sys

import pytest

from bot.cli import main
from tests.conftest import ROOT, SCHEDULES

CAMPAIGN = SCHEDULES / "2023-lac-thuy.yaml"
UNITS = SCHEDULES / "units" / "lac-thuy.csv"

# What a user should never read: Python's and the drivers' English, or a traceback.
ENGLISH = ("Traceback", "Errno", "codec", "Could not parse", "Is a directory", "No such file",
           "usage:", "error:", "required", "invalid choice", "file is not a database")  # fmt: skip

DATABASE_COMMANDS = [
    ["units", "list"],
    ["db", "upgrade"],
    ["units", "import", str(UNITS)],
    ["export", "--campaign", str(CAMPAIGN), "-o", "x.xlsx"],
    ["preview", str(CAMPAIGN), "--status"],
]


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "LOA_CAMPAIGN", "LOA_ADMINS", "TELEGRAM_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def said(capsys) -> str:
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert not [word for word in ENGLISH if word in text.split("(chi tiết:")[0]], text
    return text


@pytest.mark.parametrize("argv", DATABASE_COMMANDS, ids=lambda argv: " ".join(argv[:2]))
def test_a_file_that_is_not_sqlite(folder, monkeypatch, capsys, argv):
    (folder / "notes.txt").write_text("Danh sách đơn vị\n" * 50, encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///notes.txt")
    assert main(argv) == 1
    assert said(capsys).startswith("DATABASE_URL: notes.txt không phải là tệp cơ sở dữ liệu SQLite")


@pytest.mark.parametrize(
    ("url", "start"),
    [
        ("sqlite:///{folder}", "DATABASE_URL: không mở được tệp cơ sở dữ liệu"),
        (
            "postgresql://loa:s3cret@127.0.0.1:1/loa",
            "DATABASE_URL: không kết nối được máy chủ cơ sở dữ liệu postgresql://loa:***@127.0.0.1:1/loa",
        ),
        (
            "sqlite:////proc/no-such-process/loa.db",
            "DATABASE_URL: không tạo được thư mục /proc/no-such-process",
        ),
    ],
)
@pytest.mark.parametrize("argv", [["units", "list"], ["preview", str(CAMPAIGN), "--status"]])
def test_databases_that_cannot_be_reached(folder, monkeypatch, capsys, url, start, argv):
    monkeypatch.setenv("DATABASE_URL", url.format(folder=folder))
    assert main(argv) in (1, 2)
    text = said(capsys)
    assert text.startswith(start) and "s3cret" not in text


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("::::", "không đọc được địa chỉ này"),
        ("mysql://h/loa", "Loa dùng SQLite hoặc PostgreSQL"),
    ],
)
@pytest.mark.parametrize("argv", [["units", "list"], ["preview", str(CAMPAIGN), "--status"]])
def test_database_urls_that_make_no_sense(folder, monkeypatch, capsys, url, words, argv):
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(argv) == 2
    assert words in said(capsys)


@pytest.mark.parametrize("command", [["check"], ["preview"], ["units", "import"]])
def test_files_that_cannot_be_read(folder, capsys, command):
    (folder / "thu-muc").mkdir()
    (folder / "latin.yaml").write_bytes(b"name: Tr\xcc\n")  # 'utf-8' codec can't decode byte 0xcc
    for name, words in [
        ("khong-co.yaml", "không đọc được tệp: không có tệp này"),
        ("thu-muc", "không đọc được tệp: đây là một thư mục"),
    ] + ([("latin.yaml", "không đọc được tệp: đây không phải văn bản UTF-8 (gặp byte 0xCC)")] if command != ["units", "import"] else []):  # fmt: skip
        assert main([*command, name]) == 2
        assert said(capsys).startswith(f"{name}:1: {words}")


def test_help_is_vietnamese(folder, capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    text = said(capsys)
    assert text.startswith("cách dùng: loa [-h] [--version] LỆNH ...")
    assert "in hướng dẫn này rồi thoát" in text and "kiểm tra các tệp chiến dịch" in text


def test_each_command_s_help_is_vietnamese(folder, capsys):
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    text = said(capsys)
    assert "xuất bảng tổng hợp số liệu hoặc báo cáo" in text
    assert "mặc định theo đuôi tệp của -o" in text


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        ([], "loa: lỗi: thiếu tham số bắt buộc: LỆNH"),
        (["frobnicate"], "loa: lỗi: LỆNH: không có lựa chọn 'frobnicate'"),
        (["check"], "loa check: lỗi: thiếu tham số bắt buộc: TỆP"),
        (["export", "--format", "pdf"], "loa export: lỗi: --format: không có lựa chọn 'pdf'"),
        (["units", "list", "--bogus"], "loa: lỗi: không hiểu các tham số: --bogus"),
        (
            ["demo", "--seconds", "nhanh"],
            "loa demo: lỗi: --seconds: 'nhanh' không phải là giá trị hợp lệ",
        ),
    ],
)
def test_command_lines_it_cannot_understand(folder, capsys, argv, words):
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 2
    text = said(capsys)
    assert words in text and "(xem hướng dẫn:" in text


def test_version(folder, capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip().startswith("loa 0.")


def run(folder, *argv: str, **env: str) -> subprocess.CompletedProcess:
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LOA", "DATABASE", "TELEGRAM", "ZALO"))
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *argv], cwd=folder, capture_output=True, text=True,
        env=environ | {"PYTHONPATH": str(ROOT), **env}, timeout=60,
    )  # fmt: skip


def test_as_a_process_a_file_that_is_not_sqlite(folder):
    (folder / "notes.txt").write_text("x" * 500, encoding="utf-8")
    done = run(folder, "units", "list", DATABASE_URL="sqlite:///notes.txt")
    assert done.returncode == 1
    assert done.stderr.startswith("DATABASE_URL: notes.txt không phải là tệp cơ sở dữ liệu SQLite")
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr


def test_as_a_process_a_folder_as_the_database_says_one_line(folder):
    """aiosqlite, failing to open it, printed a thread's traceback after the message 4 times in 5."""
    for _ in range(3):
        done = run(folder, "units", "list", DATABASE_URL=f"sqlite:///{folder}")
        assert done.returncode == 1
        assert done.stderr.startswith("DATABASE_URL: không mở được tệp cơ sở dữ liệu")
        assert len(done.stderr.splitlines()) == 1, done.stderr


def test_as_a_process_an_unknown_command(folder):
    done = run(folder, "frobnicate")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("cách dùng: loa")


@pytest.mark.parametrize(
    ("argv", "env", "words"),
    [
        (["run"], {}, "LOA_CAMPAIGN: chưa đặt biến môi trường này"),
        (
            ["run"],
            {"LOA_CAMPAIGN": str(CAMPAIGN)},
            "TELEGRAM_BOT_TOKEN: chưa có token của nền tảng nào",
        ),
        (
            ["run"],
            {"LOA_CAMPAIGN": "khong-co.yaml", "TELEGRAM_BOT_TOKEN": "1:a"},
            "khong-co.yaml:1: không đọc được tệp: không có tệp này",
        ),
        (["units", "list"], {"LOA_ADMINS": "123"}, "LOA_ADMINS: “123” không đúng dạng"),
        (
            ["run"],
            {"LOA_LOG_LEVEL": "LOUD", "LOA_CAMPAIGN": str(CAMPAIGN)},
            "LOA_LOG_LEVEL: “LOUD” không hợp lệ",
        ),
        (["export"], {}, "LOA_CAMPAIGN: chưa đặt biến môi trường này"),
    ],
)
def test_settings_that_cannot_be_used(folder, monkeypatch, capsys, argv, env, words):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(argv) == 2
    assert said(capsys).startswith(words)


def test_a_database_a_newer_loa_migrated(folder, monkeypatch, capsys):
    with sqlite3.connect(folder / "loa.db") as db:
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        db.execute("INSERT INTO alembic_version VALUES ('9999')")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///loa.db")
    assert main(["units", "list"]) == 1
    assert said(capsys).startswith(
        "DATABASE_URL: cơ sở dữ liệu loa.db đã được một phiên bản Loa mới hơn cập nhật"
    )
