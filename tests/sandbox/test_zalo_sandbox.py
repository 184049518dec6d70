"""The sandbox Zalo Bot API server, spoken to over real HTTP the way Zalo's docs show it.

Raw httpx calls on purpose: the shapes (string ids, millisecond dates, `{ok, result}`, one
update or 408) are what is under test, not our client's reading of them.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from aiohttp import web

from bot.sandbox.zalo import Limits, Rate, SandboxError, ZaloSandbox

TOKEN = "1459232241454765289:sandbox-zalo-token"
OTHER = "2000000000000000001:other-zalo-token"
PHOTO = "https://x.test/p.png"


@pytest.fixture
async def sandbox() -> AsyncIterator[ZaloSandbox]:
    async with ZaloSandbox(limits=Limits.off()) as server:
        server.add_bot(TOKEN, display_name="Loa")
        yield server


@pytest.fixture
async def api(sandbox: ZaloSandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{sandbox.base_url}/bot{TOKEN}", timeout=10) as client:
        yield client


@pytest.fixture
def people(sandbox: ZaloSandbox) -> dict[str, str]:
    """A group with a principal, a clerk and the bot; the principal's private chat."""
    lan, minh = sandbox.add_user("Nguyễn Thị Lan"), sandbox.add_user("Minh")
    group = sandbox.create_group("Trường TH Lạc Thủy", members=[minh], bots=[TOKEN], admins=[lan])
    return {"lan": lan, "minh": minh, "group": group}


async def until(condition: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def poll(api: httpx.AsyncClient, timeout: float = 0) -> httpx.Response:
    return await api.post("/getUpdates", json={"timeout": str(timeout)})


async def say(api: httpx.AsyncClient, chat_id: str, text: str) -> httpx.Response:
    """The bot sends a text."""
    return await api.post("/sendMessage", json={"chat_id": chat_id, "text": text})


async def test_get_me_answers_in_zalos_shape(api: httpx.AsyncClient) -> None:
    answer = await api.post("/getMe", json={})
    assert answer.status_code == 200
    body = answer.json()
    assert body["ok"] is True
    me = body["result"]
    assert me["id"] == "1459232241454765289"  # a string, the token's number
    assert me["display_name"] == "Loa" and me["account_name"].startswith("bot.")


async def test_get_updates_returns_one_update_at_a_time_then_408(
    sandbox: ZaloSandbox, api: httpx.AsyncClient, people: dict[str, str]
) -> None:
    lan = people["lan"]
    await sandbox.post(lan, lan, "một")
    await sandbox.post(lan, lan, "hai")
    first, second, third = [await poll(api) for _ in range(3)]
    assert [first.status_code, second.status_code] == [200, 200]
    one, two = first.json()["result"], second.json()["result"]
    assert isinstance(one, dict) and isinstance(two, dict)  # an update, not a list of them
    assert one["event_name"] == "message.text.received"
    assert [one["message"]["text"], two["message"]["text"]] == ["một", "hai"]
    assert third.status_code == 408
    assert third.json() == {"ok": False, "error_code": 408, "description": "Request timeout"}


async def test_ids_are_strings_and_dates_milliseconds(
    sandbox: ZaloSandbox, api: httpx.AsyncClient, people: dict[str, str]
) -> None:
    lan = people["lan"]
    posted = await sandbox.post(lan, lan, "xin chào")
    message = (await poll(api)).json()["result"]["message"]
    assert message == posted
    assert message["chat"] == {"id": lan, "chat_type": "PRIVATE"}  # a private chat is its person
    assert message["from"] == {"id": lan, "display_name": "Nguyễn Thị Lan", "is_bot": False}
    for value in (message["message_id"], message["chat"]["id"], message["from"]["id"]):
        assert isinstance(value, str) and len(value) == 20
    assert abs(message["date"] - time.time() * 1000) < 5000

    answer = (await say(api, lan, "chào")).json()
    assert isinstance(answer["result"]["message_id"], str)
    assert abs(answer["result"]["date"] - time.time() * 1000) < 5000


async def test_a_long_poll_waits_and_ends_as_soon_as_a_message_arrives(
    sandbox: ZaloSandbox, api: httpx.AsyncClient, people: dict[str, str]
) -> None:
    waiting = asyncio.create_task(poll(api, timeout=5))
    await asyncio.sleep(0.1)
    assert not waiting.done()
    started = time.monotonic()
    await sandbox.post(people["lan"], people["lan"], "có ai không")
    answer = await asyncio.wait_for(waiting, 2)
    assert time.monotonic() - started < 1
    assert answer.json()["result"]["message"]["text"] == "có ai không"


async def test_an_idle_long_poll_ends_with_408_after_its_timeout(api: httpx.AsyncClient) -> None:
    started = time.monotonic()
    answer = await poll(api, timeout=0.5)
    assert 0.45 < time.monotonic() - started < 2
    assert answer.status_code == 408 and answer.json()["error_code"] == 408


async def test_an_abandoned_long_poll_does_not_swallow_the_next_update(
    sandbox: ZaloSandbox, api: httpx.AsyncClient, people: dict[str, str]
) -> None:
    abandoned = asyncio.create_task(poll(api, timeout=5))
    await asyncio.sleep(0.1)
    abandoned.cancel()  # the client went away (a bot stopping) while the poll waited
    await asyncio.gather(abandoned, return_exceptions=True)
    await asyncio.sleep(0.05)
    await sandbox.post(people["lan"], people["lan"], "đừng mất tin này")
    await asyncio.sleep(0.05)
    assert sandbox.pending_updates(TOKEN) == 1
    answer = await poll(api, timeout=1)
    assert answer.json()["result"]["message"]["text"] == "đừng mất tin này"


async def test_in_a_group_the_bot_hears_only_mentions_and_replies_to_itself(
    sandbox: ZaloSandbox, api: httpx.AsyncClient, people: dict[str, str]
) -> None:
    group, lan, minh = people["group"], people["lan"], people["minh"]
    await sandbox.post(group, lan, "chào cả nhà")  # not for the bot
    await sandbox.post(group, minh, "@loa /dangky AB12")  # a mention, any case
    prompt = await say(api, group, "Số lớp?")
    bot_message = prompt.json()["result"]["message_id"]
    chatter = await sandbox.post(group, lan, "ai trả lời đi")
    await sandbox.post(group, minh, "em trả lời rồi", reply_to=chatter["message_id"])
    await sandbox.post(group, lan, "3 lớp", reply_to=bot_message)
    heard = []
    while (answer := await poll(api)).status_code == 200:
        heard.append(answer.json()["result"]["message"])
    assert [m["text"] for m in heard] == ["@loa /dangky AB12", "3 lớp"]
    assert all(m["chat"] == {"id": group, "chat_type": "GROUP"} for m in heard)
    assert "reply_to_message" not in heard[1]  # Zalo documents no reply field


async def test_images_stickers_and_unsupported_messages_have_their_own_events(
    sandbox: ZaloSandbox, api: httpx.AsyncClient, people: dict[str, str]
) -> None:
    lan = people["lan"]
    await sandbox.post(lan, lan, "bảng số liệu", kind="image", photo_url="https://x.test/a.jpg")
    await sandbox.post(lan, lan, kind="sticker", sticker="abc")
    await sandbox.post(lan, lan, kind="unsupported")
    image, sticker, other = [(await poll(api)).json()["result"] for _ in range(3)]
    assert image["event_name"] == "message.image.received"
    assert image["message"]["photo_url"] == "https://x.test/a.jpg"
    assert image["message"]["caption"] == "bảng số liệu" and "text" not in image["message"]
    assert sticker["event_name"] == "message.sticker.received"
    assert sticker["message"]["sticker"] == "abc"
    assert other["event_name"] == "message.unsupported.received"
    with pytest.raises(SandboxError):
        await sandbox.post(lan, lan, "x", kind="voice")


async def test_texts_are_limited_to_2000_characters(
    sandbox: ZaloSandbox, api: httpx.AsyncClient, people: dict[str, str]
) -> None:
    group = people["group"]
    longest = await say(api, group, "a" * 2000)
    too_long = await say(api, group, "a" * 2001)
    empty = await say(api, group, "")
    assert longest.status_code == 200
    assert too_long.status_code == 400 and too_long.json()["ok"] is False
    assert too_long.json()["error_code"] == 400 and "2000" in too_long.json()["description"]
    assert empty.status_code == 400
    assert [m["text"] for m in sandbox.sent(group)] == ["a" * 2000]


async def test_sent_records_every_kind_of_message(
    sandbox: ZaloSandbox, api: httpx.AsyncClient, people: dict[str, str]
) -> None:
    group = people["group"]
    await say(api, group, "chữ")
    await api.post("/sendPhoto", json={"chat_id": group, "photo": PHOTO})
    await api.post("/sendSticker", json={"chat_id": group, "sticker": "0e07"})
    typing = await api.post("/sendChatAction", json={"chat_id": group, "action": "typing"})
    assert typing.json() == {"ok": True}
    sent = sandbox.sent(group)
    assert [m["sandbox"]["method"] for m in sent] == ["sendMessage", "sendPhoto", "sendSticker"]
    assert [sent[0]["text"], sent[1]["photo"], sent[2]["sticker"]] == ["chữ", PHOTO, "0e07"]
    assert sent[0]["chat"] == {"id": group, "chat_type": "GROUP"}
    assert sandbox.sent(token=OTHER) == [] and sandbox.stats.sent == 3


async def test_a_bot_writes_to_a_person_only_after_they_wrote_and_until_they_block_it(
    sandbox: ZaloSandbox, api: httpx.AsyncClient, people: dict[str, str]
) -> None:
    lan = people["lan"]
    before = await say(api, lan, "chào")
    assert before.status_code == 403
    await sandbox.post(lan, lan, "chào Loa")
    assert (await say(api, lan, "chào")).status_code == 200
    sandbox.remove_bot(lan, TOKEN)  # she blocks the bot
    blocked = await say(api, lan, "còn đó không")
    assert blocked.status_code == 403 and "blocked" in blocked.json()["description"]
    sandbox.add_bot_to_chat(lan, TOKEN)
    assert (await say(api, lan, "lại")).status_code == 200


async def test_a_removed_bot_gets_403_in_the_group_and_hears_nothing(
    sandbox: ZaloSandbox, api: httpx.AsyncClient, people: dict[str, str]
) -> None:
    group = people["group"]
    sandbox.remove_bot(group, TOKEN)
    answer = await say(api, group, "còn ai không")
    assert answer.status_code == 403
    assert answer.json() == {
        "ok": False,
        "error_code": 403,
        "description": "Forbidden: bot is not a member of this group",
    }
    await sandbox.post(group, people["lan"], "@Loa chào")
    assert sandbox.pending_updates(TOKEN) == 0
    sandbox.add_bot_to_chat(group, TOKEN)
    assert (await say(api, group, "đây")).status_code == 200
    unknown = await api.post("/sendMessage", json={"chat_id": "ffff", "text": "?"})
    assert unknown.status_code == 400 and "not found" in unknown.json()["description"]


async def test_unknown_tokens_and_methods(sandbox: ZaloSandbox) -> None:
    async with httpx.AsyncClient(base_url=sandbox.base_url) as http:
        wrong = await http.post("/bot1:wrong/getMe", json={})
        missing = await http.post(f"/bot{TOKEN}/getChatMember", json={})
    assert wrong.status_code == 401 and wrong.json()["ok"] is False
    assert missing.status_code == 404


async def test_a_webhook_gets_each_update_with_the_secret_header(
    sandbox: ZaloSandbox, api: httpx.AsyncClient, people: dict[str, str]
) -> None:
    received: list[tuple[str | None, object]] = []
    answers = iter([500, 200, 200])  # the first delivery fails and is retried

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Bot-Api-Secret-Token"), await request.json()))
        return web.Response(status=next(answers))

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    sandbox.webhook_backoff = (0.05, 0.1)
    try:
        short = await api.post("/setWebhook", json={"url": url, "secret_token": "short"})
        assert short.status_code == 400
        result = await api.post("/setWebhook", json={"url": url, "secret_token": "s3cret-hook"})
        assert result.json()["result"]["url"] == url
        assert isinstance(result.json()["result"]["updated_at"], int)
        assert (await api.post("/getWebhookInfo")).json()["result"]["url"] == url
        assert (await poll(api)).status_code == 409  # no getUpdates while a webhook is set
        await sandbox.post(people["lan"], people["lan"], "qua webhook")
        await until(lambda: len(received) == 2)
        sandbox.webhook_bare = True
        await sandbox.post(people["lan"], people["lan"], "không bọc")
        await until(lambda: len(received) == 3)
    finally:
        await runner.cleanup()
    assert [secret for secret, _ in received] == ["s3cret-hook"] * 3
    wrapped, retried, bare = (body for _, body in received)
    assert wrapped == retried  # the failed delivery came again
    assert wrapped["ok"] is True and wrapped["result"]["message"]["text"] == "qua webhook"
    assert bare["event_name"] == "message.text.received" and "ok" not in bare
    assert sandbox.stats.webhook_failures == 1 and sandbox.stats.webhook_deliveries == 2
    deleted = (await api.post("/deleteWebhook")).json()["result"]
    assert deleted["url"] == "" and (await poll(api)).status_code == 408


@pytest.mark.parametrize(
    ("form", "status", "body"),
    [
        ("http-408", 408, {"ok": False, "error_code": 408, "description": "Request timeout"}),
        ("200-408", 200, {"ok": False, "error_code": 408, "description": "Request timeout"}),
        ("200-408-text", 200, {"ok": False, "error_code": "408", "description": "Request timeout"}),
        ("empty-result", 200, {"ok": True, "result": {}}),
    ],
)
async def test_an_idle_poll_ends_in_the_form_chosen(
    sandbox: ZaloSandbox, api: httpx.AsyncClient, form: str, status: int, body: dict
) -> None:
    sandbox.idle_form = form
    answer = await poll(api, timeout=0.1)
    assert (answer.status_code, answer.json()) == (status, body)


async def test_a_429_comes_in_the_form_chosen(
    sandbox: ZaloSandbox, api: httpx.AsyncClient, people: dict[str, str]
) -> None:
    answers = {}
    for form in ("retry-after", "no-retry-after", "html"):
        sandbox.rate_limit_form = form
        sandbox.fail_next("getUpdates", 1, 429, "Too Many Requests")
        answers[form] = await poll(api)
    assert {a.status_code for a in answers.values()} == {429}
    assert answers["retry-after"].headers["Retry-After"] == "1"
    assert answers["no-retry-after"].json()["error_code"] == 429
    assert "Retry-After" not in answers["no-retry-after"].headers
    html = answers["html"]
    assert html.headers["Content-Type"].startswith("text/html") and "<h1>429" in html.text
    assert "Retry-After" not in html.headers
    async with httpx.AsyncClient() as http:  # and from another process, through the controls
        set_form = {"idle_form": "empty-result", "rate_limit_form": "html"}
        answer = await http.post(f"{sandbox.base_url}/sandbox/faults", json=set_form)
        assert answer.json()["idle_form"] == "empty-result"
        refused = await http.post(f"{sandbox.base_url}/sandbox/faults", json={"idle_form": "x"})
        assert refused.status_code == 400
    assert (sandbox.idle_form, sandbox.rate_limit_form) == ("empty-result", "html")


async def test_fail_next_answers_the_chosen_error_then_recovers(
    sandbox: ZaloSandbox, api: httpx.AsyncClient, people: dict[str, str]
) -> None:
    group = people["group"]
    sandbox.fail_next("sendMessage", 2, 502, "Bad Gateway")
    sandbox.fail_next("sendMessage", 1, 429, "Too Many Requests")
    sends = [await say(api, group, "x") for _ in range(4)]
    assert [s.status_code for s in sends] == [502, 502, 429, 200]
    assert sends[0].json() == {"ok": False, "error_code": 502, "description": "Bad Gateway"}
    assert sends[2].headers["Retry-After"] == "1"
    assert sandbox.stats.injected_failures == 3 and len(sandbox.sent(group)) == 1
    assert ("sendMessage", 502, "Bad Gateway") in sandbox.errors


async def test_the_rate_limit_answers_429_with_retry_after() -> None:
    limits = Limits(overall=None, group=Rate(2, 60.0), private=None)
    async with ZaloSandbox(limits=limits) as server:
        server.add_bot(TOKEN)
        group = server.create_group("Nhóm", bots=[TOKEN])
        async with httpx.AsyncClient(base_url=f"{server.base_url}/bot{TOKEN}") as http:
            sends = [
                await http.post("/sendMessage", json={"chat_id": group, "text": str(n)})
                for n in range(3)
            ]
    assert [s.status_code for s in sends] == [200, 200, 429]
    assert sends[2].json()["error_code"] == 429
    assert 55 <= int(sends[2].headers["Retry-After"]) <= 60
    assert server.stats.rate_limited == 1


async def test_latency_delays_every_answer(sandbox: ZaloSandbox, api: httpx.AsyncClient) -> None:
    sandbox.latency = 0.2
    started = time.monotonic()
    await api.post("/getMe", json={})
    assert time.monotonic() - started >= 0.2


async def test_the_control_endpoints_drive_the_sandbox_from_another_process(
    sandbox: ZaloSandbox, api: httpx.AsyncClient
) -> None:
    async with httpx.AsyncClient(base_url=f"{sandbox.base_url}/sandbox") as http:

        async def control(path: str, **body: object) -> Any:
            return (await http.post(path, json=body)).json()

        async def look(path: str, **query: str) -> Any:
            return (await http.get(path, params=query)).json()

        assert await control("/bots", token=OTHER, display_name="Loa 2") == {
            "id": "2000000000000000001"
        }
        lan = (await control("/users", display_name="Lan"))["id"]
        minh = (await control("/users", first_name="Minh"))["id"]
        group = (await control("/groups", title="Nhóm A", members=[lan], bots=[TOKEN]))["id"]
        assert await control("/private_chats", user_id=lan) == {"id": lan}
        assert await control(f"/chats/{group}/members", user_id=minh) == {"ok": True}
        posted = await control(f"/chats/{group}/messages", user_id=lan, text="@Loa chào")
        assert posted["text"] == "@Loa chào"
        sticker = await control(f"/chats/{lan}/messages", user_id=lan, kind="sticker")
        assert sticker["sticker"]
        assert (await poll(api)).json()["result"]["message"]["text"] == "@Loa chào"

        await say(api, group, "Chào Lan")
        sent = await look("/sent", chat_id=group)
        assert [m["text"] for m in sent] == ["Chào Lan"]
        assert sent[0]["sandbox"]["token"] == TOKEN
        assert await look("/sent", token=OTHER) == []

        fault = {"method": "sendMessage", "status": 500}
        assert await control("/faults", latency=0.01, fail_next=fault) == {
            "latency": 0.01,
            "fail_next": {"sendmessage": [{"status": 500, "description": "Internal Server Error"}]},
            "idle_form": "http-408",
            "rate_limit_form": "retry-after",
        }
        assert (await say(api, group, "x")).status_code == 500
        assert (await look("/faults"))["fail_next"] == {}

        assert await control(f"/chats/{group}/remove_bot", token=TOKEN) == {"ok": True}
        assert (await say(api, group, "x")).status_code == 403
        assert await control(f"/chats/{group}/add_bot", token=TOKEN) == {"ok": True}
        assert (await say(api, group, "x")).status_code == 200

        stats = await look("/stats")
        assert stats["sent"] == 2 and stats["injected_failures"] == 1
        misuse = await http.post("/chats/nope/messages", json={"user_id": lan, "text": "x"})
        assert misuse.status_code == 400 and "error" in misuse.json()
        assert (await http.post("/users", json={})).status_code == 400


def test_python_m_bot_sandbox_serves_zalo_beside_telegram() -> None:
    command = [sys.executable, "-m", "bot.sandbox", "--port", "0", "--zalo-port", "0"]
    with subprocess.Popen(
        [*command, "--zalo-bot", f"{TOKEN}=Loa Lạc Thủy"], stdout=subprocess.PIPE, text=True
    ) as process:
        try:
            telegram_url = process.stdout.readline().strip()
            zalo_url = process.stdout.readline().strip()
            assert telegram_url.startswith("http://127.0.0.1:") and zalo_url != telegram_url
            answer = httpx.post(f"{zalo_url}/bot{TOKEN}/getMe", json={}).json()
            assert answer["result"]["display_name"] == "Loa Lạc Thủy"
        finally:
            process.terminate()
            assert process.wait(timeout=5) == 0
