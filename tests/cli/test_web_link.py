"""`loa web-link PLATFORM:ID`: a coordinator's one-time sign-in link as the last line of output,
the database migrated first like every command; anyone LOA_ADMINS does not name is refused."""

import asyncio

import pytest

from bot.campaign.loader import load_campaign
from bot.cli import main
from bot.ops import signin
from bot.ops.env import Env
from bot.ops.signin import Session
from bot.store.db import Database
from tests.cli.test_bad_environments import said
from tests.conftest import SCHEDULES

CAMPAIGN = SCHEDULES / "2023-lac-thuy.yaml"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("LOA_WEB", "LOA_PUBLIC_URL", "LOA_WEB_PORT", "LOA_WEB_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'loa.db'}")
    monkeypatch.setenv("LOA_CAMPAIGN", str(CAMPAIGN))
    monkeypatch.setenv("LOA_ADMINS", "telegram:123, zalo:abc")
    return tmp_path


def sign_in(folder, token: str) -> Session | signin.Refusal:
    async def follow() -> Session | signin.Refusal:
        async with Database(f"sqlite:///{folder / 'loa.db'}") as db:
            env = Env(db, load_campaign(CAMPAIGN), "2023-lac-thuy")
            return await signin.sign_in(env, token, frozenset({"zalo:abc"}), "127.0.0.1")

    return asyncio.run(follow())


def test_a_coordinator_gets_a_link_that_signs_in_once(folder, capsys):
    assert main(["web-link", "zalo:abc"]) == 0
    out = capsys.readouterr().out
    *before, last = out.strip().splitlines()
    assert last.startswith("http://127.0.0.1:8088/login/")
    assert "zalo:abc" in before[-1] and "15 phút" in before[-1]
    token = last.rsplit("/", 1)[1]
    started = sign_in(folder, token)
    assert isinstance(started, Session) and started.holder == "zalo:abc"
    assert sign_in(folder, token) is signin.Refusal.USED


def test_the_link_starts_at_the_public_address(folder, monkeypatch, capsys):
    monkeypatch.setenv("LOA_PUBLIC_URL", "https://loa.pgd-lacthuy.edu.vn/")
    assert main(["web-link", " telegram:123 "]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("https://loa.pgd-lacthuy.edu.vn/login/")


def test_with_the_console_off_the_link_still_comes_last_after_a_warning(
    folder, monkeypatch, capsys
):
    monkeypatch.setenv("LOA_WEB", "0")
    assert main(["web-link", "telegram:123"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("Lưu ý: trang quản lý trên web đang tắt (LOA_WEB=0)")
    assert "/login/" in lines[-1]


def test_someone_not_in_loa_admins_is_refused(folder, capsys):
    assert main(["web-link", "telegram:999"]) == 2
    text = said(capsys)
    assert text.startswith("telegram:999 không có trong LOA_ADMINS")
    assert "/login/" not in text
    assert not (folder / "loa.db").exists()  # refused before the database is touched


def test_without_loa_admins_it_says_so(folder, monkeypatch, capsys):
    monkeypatch.delenv("LOA_ADMINS")
    assert main(["web-link", "telegram:123"]) == 2
    assert "(LOA_ADMINS chưa đặt)" in said(capsys)


@pytest.mark.parametrize("given", ["123", "facebook:1", "telegram:"])
def test_a_malformed_address_is_explained(folder, capsys, given):
    assert main(["web-link", given]) == 2
    assert said(capsys).startswith(f"“{given}” không đúng dạng nền_tảng:mã")


def test_it_needs_the_campaign(folder, monkeypatch, capsys):
    monkeypatch.delenv("LOA_CAMPAIGN")
    assert main(["web-link", "telegram:123"]) == 2
    assert said(capsys).startswith("LOA_CAMPAIGN: chưa đặt biến môi trường này")


@pytest.mark.parametrize("given", ["zalo:xa", "zalo:xa@XA-AN-BINH"])
def test_a_communes_coordinator_gets_a_link_too(folder, monkeypatch, capsys, given):
    monkeypatch.setenv("LOA_ADMINS", "telegram:123, zalo:xa@XA-AN-BINH")
    assert main(["web-link", given]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("http://127.0.0.1:8088/login/")


def test_a_badly_scoped_loa_admins_is_explained(folder, monkeypatch, capsys):
    monkeypatch.setenv("LOA_ADMINS", "zalo:xa@xã An Bình")
    assert main(["web-link", "zalo:xa"]) == 2
    assert "sau @ là mã xã, phường" in said(capsys)
