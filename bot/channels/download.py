"""Fetching a file someone sent, bounded: never more than a cap of bytes, never longer than a
time, only over http(s).

Both adapters fetch through `download`: Telegram from its file URL (after getFile), Zalo from
the image URL its update carries. That URL comes from the platform, but Loa does not take it on
trust: only http and https are fetched, redirects are followed by hand (a few, each checked the
same way, never to another scheme), and `hosts` may restrict the hosts (a suffix allow-list:
"zdn.vn" admits "f27-zpc.zdn.vn"). A stated Content-Length over the cap is refused before a byte
is read; otherwise the body is read in chunks and given up as soon as it passes the cap.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from urllib.parse import urljoin, urlsplit

import httpx

from bot.channels.base import FetchFailed, TooLarge

SCHEMES = frozenset({"http", "https"})
MAX_REDIRECTS = 3
CHUNK = 64 * 1024


def checked_url(url: str, hosts: Collection[str] | None = None) -> str:
    """`url` when Loa may fetch it: http(s), a host, no user or password, a host allowed by
    `hosts` (suffixes; None: any host). Raises `FetchFailed`."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        raise FetchFailed("not a URL") from None
    if parts.scheme.lower() not in SCHEMES:
        raise FetchFailed(f"not fetched over {parts.scheme or 'no scheme'}: only http(s)")
    if not host or parts.username is not None or parts.password is not None:
        raise FetchFailed("no host, or a user name in the URL")
    if hosts is not None and not any(
        host == allowed or host.endswith("." + allowed) for allowed in hosts
    ):
        raise FetchFailed(f"host {host} is not among the allowed ones")
    return url


async def download(
    client: httpx.AsyncClient,
    url: str,
    *,
    max_bytes: int,
    timeout: float,
    hosts: Collection[str] | None = None,
    masked: Callable[[str], str] = str,
) -> bytes:
    """The body at `url`, at most `max_bytes` of it (else `TooLarge`), within `timeout` seconds
    overall (else `FetchFailed`). `masked` hides secrets (a token in the URL) in error texts."""
    try:
        async with asyncio.timeout(timeout):
            return await _follow(client, checked_url(url, hosts), max_bytes, hosts)
    except TimeoutError:
        raise FetchFailed(f"no file within {timeout:g}s") from None
    except httpx.HTTPError as exc:
        raise FetchFailed(masked(f"{type(exc).__name__}: {exc}")) from None


async def _follow(
    client: httpx.AsyncClient, url: str, max_bytes: int, hosts: Collection[str] | None
) -> bytes:
    for _ in range(MAX_REDIRECTS + 1):
        async with client.stream("GET", url, follow_redirects=False) as response:
            if response.is_redirect:
                url = checked_url(urljoin(url, response.headers.get("location", "")), hosts)
                continue
            if response.status_code != 200:
                raise FetchFailed(f"HTTP {response.status_code}")
            return await _read(response, max_bytes)
    raise FetchFailed(f"more than {MAX_REDIRECTS} redirects")


async def _read(response: httpx.Response, max_bytes: int) -> bytes:
    stated = response.headers.get("content-length", "")
    if stated.isdigit() and int(stated) > max_bytes:
        raise TooLarge(max_bytes, int(stated))
    body = bytearray()
    async for chunk in response.aiter_bytes(CHUNK):
        body += chunk
        if len(body) > max_bytes:
            raise TooLarge(max_bytes)
    return bytes(body)
