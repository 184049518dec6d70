"""What Loa writes (issue 14, item 6): its database folder and files are its user's alone; an
export or a draft never follows a planted link, never replaces a device or a folder, and never
overwrites an existing file unless `--force` is given."""

import asyncio
import os
import stat

import pytest

from bot.cli import main
from bot.store.db import Database
from tests.conftest import SCHEDULES
from tests.plan.conftest import SEED_DIR, SEEDS

CAMPAIGN = SCHEDULES / "2023-lac-thuy.yaml"


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def home(monkeypatch, tmp_path):
    """An empty folder as the working directory, the default database under its `var/`."""
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "LOA_CAMPAIGN", "LOA_ADMINS"):
        monkeypatch.delenv(name, raising=False)
    previous = os.umask(0o022)  # the usual one, which made var/ 0755 and the database 0644
    yield tmp_path
    os.umask(previous)


async def test_the_database_folder_and_files_are_private(home):
    assert await asyncio.to_thread(main, ["db", "upgrade"]) == 0
    assert mode(home / "var") == 0o700
    assert mode(home / "var" / "loa.db") == 0o600
    db = Database()
    async with db, db.only_instance(), db.engine.connect():  # the WAL and its index
        made = sorted(p.name for p in (home / "var").iterdir())
        assert made == ["loa.db", "loa.db-shm", "loa.db-wal"]  # the lock is on loa.db itself
        assert all(mode(home / "var" / name) == 0o600 for name in made)


async def test_an_existing_database_is_made_private(home):
    (home / "var").mkdir(mode=0o755)
    (home / "var" / "loa.db").touch(mode=0o644)
    assert await asyncio.to_thread(main, ["db", "upgrade"]) == 0
    assert (mode(home / "var"), mode(home / "var" / "loa.db")) == (0o700, 0o600)


def export(*argv: str) -> int:
    return main(["export", "--format", "csv", "--campaign", str(CAMPAIGN), *argv])


def test_an_export_never_follows_a_link_planted_at_its_temporary_file(home, capsys):
    victim = home / "victim.txt"
    victim.write_text("của người khác")
    (home / ".bang.csv.part").symlink_to(victim)  # where Loa used to write first

    assert export("-o", str(home / "bang.csv")) == 0

    assert victim.read_text() == "của người khác"
    assert (home / "bang.csv").stat().st_size > 0 and not (home / "bang.csv").is_symlink()


@pytest.mark.parametrize("target", ["fifo", "folder", "link"])
def test_an_export_refuses_a_target_that_is_not_a_regular_file(home, capsys, target):
    """A named pipe stands for a device (`-o /dev/full` was replaced by a regular file): the
    tests run as root, and must not risk a real one."""
    os.mkfifo(home / "fifo")
    (home / "folder").mkdir()
    (home / "elsewhere.csv").write_text("giữ nguyên")
    (home / "link").symlink_to(home / "elsewhere.csv")
    path = str(home / target)
    before = os.lstat(path)

    assert export("-o", path) == 2

    assert "không phải một tệp thường" in capsys.readouterr().err
    after = os.lstat(path)
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)
    assert (home / "elsewhere.csv").read_text() == "giữ nguyên"


def test_an_existing_export_is_kept_unless_forced(home, capsys):
    out = home / "bang.csv"
    out.write_text("bản cũ")
    assert export("-o", str(out)) == 2
    assert "--force" in capsys.readouterr().err and out.read_text() == "bản cũ"
    assert export("-o", str(out), "--force") == 0
    assert out.read_text() != "bản cũ"


def test_a_hand_edited_campaign_file_is_kept_unless_forced(home, capsys):
    plan = SEED_DIR / SEEDS["quan-12"]
    out = home / "chien-dich.yaml"
    out.write_text("# đã sửa tay\n")
    assert main(["import-plan", str(plan), "-o", str(out)]) == 2
    assert "--force" in capsys.readouterr().err and out.read_text() == "# đã sửa tay\n"
    assert main(["import-plan", str(plan), "-o", str(out), "--force"]) == 0
    assert out.read_text().startswith("#") and out.read_text() != "# đã sửa tay\n"
