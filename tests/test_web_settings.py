"""The web console's settings: LOA_WEB, LOA_WEB_HOST, LOA_WEB_PORT, LOA_PUBLIC_URL and
LOA_API_TOKEN, their defaults, and a Vietnamese sentence for each value that cannot be used."""

import pytest

from bot.config import Settings
from bot.errors import Invalid
from bot.messages import describe


def settings(**values: str) -> Settings:
    return Settings.from_env(values, env_file="/nonexistent")


def refusal(**values: str) -> str:
    with pytest.raises(Invalid) as caught:
        settings(**values)
    [problem] = caught.value.problems
    return describe(problem)


def test_the_console_is_on_at_loopback_8088_by_default():
    found = settings()
    assert found.web is True
    assert (found.web_host, found.web_port) == ("127.0.0.1", 8088)
    assert found.public_url == "http://127.0.0.1:8088"
    assert found.api_token is None


@pytest.mark.parametrize(
    ("value", "on"), [("0", False), ("1", True), ("off", False), ("Yes", True)]
)
def test_loa_web_turns_the_console_on_and_off(value, on):
    assert settings(LOA_WEB=value).web is on


def test_a_switch_that_is_neither_is_explained():
    assert refusal(LOA_WEB="maybe") == "LOA_WEB: “maybe” không hợp lệ: đặt 1 để bật, 0 để tắt"


def test_the_public_address_follows_the_port_until_it_is_set():
    assert settings(LOA_WEB_PORT="9000").public_url == "http://127.0.0.1:9000"
    assert settings(LOA_WEB_HOST="0.0.0.0").public_url == "http://127.0.0.1:8088"
    given = settings(LOA_WEB_PORT="9000", LOA_PUBLIC_URL="https://loa.pgd-lacthuy.edu.vn/")
    assert given.public_url == "https://loa.pgd-lacthuy.edu.vn"  # no trailing slash kept
    assert settings(LOA_PUBLIC_URL="https://so.gd.vn/loa//").public_url == "https://so.gd.vn/loa"


@pytest.mark.parametrize(
    "value",
    ["loa.pgd.edu.vn", "ftp://loa.pgd.edu.vn", "https://", "http://x:port", "https://a b.vn",
     "https://loa.vn/?a=1", "https://loa.vn/#top"],
)  # fmt: skip
def test_a_public_address_that_is_not_a_web_address_is_explained(value):
    said = refusal(LOA_PUBLIC_URL=value)
    assert said.startswith(f"LOA_PUBLIC_URL: “{value}” không phải là địa chỉ web dùng được")
    assert "http:// hoặc https://" in said


@pytest.mark.parametrize("value", ["0", "65536", "web"])
def test_a_bad_web_port_is_explained(value):
    assert refusal(LOA_WEB_PORT=value) == f"LOA_WEB_PORT: “{value}” không phải là số cổng (1–65535)"


def test_the_api_token_is_a_secret_never_shown():
    token = "a-long-enough-api-token-1234"
    found = settings(LOA_API_TOKEN=token, TELEGRAM_BOT_TOKEN="1:tok")
    assert found.api_token == token
    assert token in found.secrets()  # logging masks it
    assert token not in repr(found)


@pytest.mark.parametrize("value", ["short", "sixteen chars ok"])
def test_a_guessable_api_token_is_refused_without_printing_it(value):
    said = refusal(LOA_API_TOKEN=value)
    assert said.startswith("LOA_API_TOKEN: khóa này quá ngắn hoặc có dấu cách")
    assert value not in said
