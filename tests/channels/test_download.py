"""The bounded download both adapters fetch through: schemes, hosts, redirects, the byte cap and
the time limit, answered by httpx's MockTransport (no server)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from bot.channels.base import FetchFailed, TooLarge
from bot.channels.download import MAX_REDIRECTS, checked_url, download

BODY = b"\xff\xd8\xff" + b"x" * 5000


def client(answer: Callable[[httpx.Request], httpx.Response]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


async def fetch(answer: Callable[[httpx.Request], httpx.Response], url: str, **options) -> bytes:
    options = {"max_bytes": len(BODY), "timeout": 2.0, **options}
    async with client(answer) as http:
        return await download(http, url, **options)


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=BODY)


async def test_a_body_within_the_cap_comes_whole() -> None:
    assert await fetch(ok, "https://f1.zdn.vn/a.jpg") == BODY
    assert await fetch(ok, "http://127.0.0.1:9/a.jpg") == BODY


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://f1.zdn.vn/a.jpg",
        "data:image/png;base64,AAAA",
        "javascript:alert(1)",
        "//f1.zdn.vn/a.jpg",
        "https://",
        "https://user:pass@f1.zdn.vn/a.jpg",
        "https://[::1/a.jpg",
        "",
    ],
)
async def test_only_plain_http_and_https_urls_are_fetched(url: str) -> None:
    with pytest.raises(FetchFailed):
        await fetch(ok, url)


def test_an_allow_list_admits_its_hosts_and_their_subdomains_only() -> None:
    hosts = {"zdn.vn"}
    assert checked_url("https://f27-zpc.zdn.vn/a.jpg", hosts)
    assert checked_url("https://ZDN.VN/a.jpg", hosts)
    for url in ("https://evilzdn.vn/a.jpg", "https://zdn.vn.evil.test/a.jpg", "http://10.0.0.1/"):
        with pytest.raises(FetchFailed, match="not among"):
            checked_url(url, hosts)


async def test_redirects_are_followed_by_hand_and_checked_each_time() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/first":
            return httpx.Response(302, headers={"location": "/second"})
        if request.url.path == "/second":
            return httpx.Response(301, headers={"location": "https://cdn.test/final"})
        return httpx.Response(200, content=BODY)

    assert await fetch(answer, "https://a.test/first") == BODY
    with pytest.raises(FetchFailed, match="not among"):  # the redirect leaves the allowed hosts
        await fetch(answer, "https://a.test/first", hosts={"a.test"})

    def to_file(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": "file:///etc/passwd"})

    with pytest.raises(FetchFailed, match="only http"):
        await fetch(to_file, "https://a.test/x")


async def test_endless_redirects_end() -> None:
    seen = []

    def loop(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(307, headers={"location": f"/again{len(seen)}"})

    with pytest.raises(FetchFailed, match="redirects"):
        await fetch(loop, "https://a.test/x")
    assert len(seen) == MAX_REDIRECTS + 1


async def test_a_stated_length_over_the_cap_is_refused_before_reading() -> None:
    def big(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-length": "999999999"}, content=b"")

    with pytest.raises(TooLarge) as refused:
        await fetch(big, "https://a.test/x")
    assert refused.value.size == 999999999


async def test_an_unstated_length_is_cut_off_at_the_cap() -> None:
    produced = []

    async def endless() -> AsyncIterator[bytes]:
        for _ in range(10_000):
            produced.append(1)
            yield b"y" * 1024

    def stream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=endless())

    with pytest.raises(TooLarge) as refused:
        await fetch(stream, "https://a.test/x", max_bytes=10 * 1024)
    assert refused.value.size is None
    assert len(produced) < 100  # given up at the cap, not read to the end


async def test_an_error_status_or_a_network_failure_is_a_fetch_failure() -> None:
    with pytest.raises(FetchFailed, match="HTTP 404"):
        await fetch(lambda r: httpx.Response(404), "https://a.test/x")

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(FetchFailed, match="ConnectError"):
        await fetch(refused, "https://a.test/x")


async def test_the_time_limit_covers_the_whole_download() -> None:
    async def slow() -> AsyncIterator[bytes]:
        while True:
            await asyncio.sleep(0.05)
            yield b"z"

    def trickle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=slow())

    with pytest.raises(FetchFailed, match=r"within 0\.3s"):
        await fetch(trickle, "https://a.test/x", timeout=0.3)


async def test_a_secret_in_an_error_is_masked() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    with pytest.raises(FetchFailed) as failed:
        await fetch(
            refused,
            "https://a.test/file/botSECRET/x.jpg",
            masked=lambda t: t.replace("SECRET", "***"),
        )
    assert "SECRET" not in str(failed.value) and "***" in str(failed.value)
