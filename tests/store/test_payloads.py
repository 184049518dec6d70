"""What the store keeps as JSON, typed at its boundary: the JSON keeps its shape, so rows
written before the types read back the same."""

import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from bot.delivery import outbox
from bot.store import answers
from bot.store.models import Delivery, Prompt, PromptKind
from bot.store.payloads import Announcement, Unconfirmed, stored
from tests.store.test_outbox import VN, registered

TEXTS = st.text(st.characters(blacklist_categories=("Cs",)), max_size=50)
VALUES = st.one_of(
    st.tuples(st.integers(0, 10**9)), st.tuples(st.integers(0, 999), st.integers(0, 10**6)), TEXTS
)


@given(TEXTS, st.lists(st.from_regex(r"\A[a-z-]{1,12}\Z"), max_size=3))
def test_an_announcement_goes_through_json_and_back(words, types):
    announcement = Announcement(words, tuple(types))
    written = json.loads(json.dumps(announcement.to_json()))
    assert written == {"text": words, "types": types}
    assert Announcement.from_json(written) == announcement


@given(st.lists(st.tuples(VALUES, TEXTS), max_size=5))
def test_figures_waiting_for_yes_go_through_json_and_back(given_answers):
    unconfirmed = Unconfirmed.of(given_answers)
    written = json.loads(json.dumps(unconfirmed.to_json()))
    # the shape the chat handlers always wrote: [[value as `payloads.stored`, raw], ...]
    assert written == {"answers": [[stored(v), raw] for v, raw in given_answers]}
    assert Unconfirmed.from_json(written) == unconfirmed


@pytest.mark.parametrize("data", [{}, {"text": 1}, {"text": "x", "types": "a"}])
def test_what_is_no_announcement_is_refused(data):
    with pytest.raises(ValueError):
        Announcement.from_json(data)


@pytest.mark.parametrize("data", [{}, {"answers": [[1]]}, {"answers": "x"}])
def test_what_is_no_read_back_is_refused(data):
    with pytest.raises(ValueError):
        Unconfirmed.from_json(data)


async def test_a_broadcast_row_holds_the_json_it_always_held(db):
    await registered(db, "a")
    at = dt.datetime(2023, 10, 3, 9, tzinfo=VN)
    async with db.session() as session, session.begin():
        [row] = await outbox.broadcast(session, "c", "Họp\x00 lúc 15h", ["truong-hoc"], at)
    async with db.session() as session:
        raw = await session.scalar(text("SELECT payload FROM deliveries"))
        stored = await session.get(Delivery, row.id)
    payload = json.loads(raw) if isinstance(raw, str) else raw
    assert payload == {"text": "Họp lúc 15h", "types": ["truong-hoc"]}
    assert stored is not None and stored.announcement == Announcement(
        "Họp lúc 15h", ("truong-hoc",)
    )


async def test_a_read_back_is_stored_as_json_of_the_old_shape_and_read_typed(db):
    [target] = await registered(db, "a")
    waiting = Unconfirmed.of([((3, 120), "3 lớp 120 người"), ("không", "không")])
    async with db.session() as session, session.begin():
        answers.asked(
            session,
            "c",
            target.chat.id,
            target.unit.id,
            "m1",
            PromptKind.CONFIRM,
            ["1", "2"],
            waiting,
        )
    async with db.session() as session:
        raw = await session.scalar(text("SELECT pending FROM prompts"))
        [prompt] = await answers.prompts(session, "c", [(target.chat.id, "m1")])
    payload = json.loads(raw) if isinstance(raw, str) else raw
    assert payload == {"answers": [[[3, 120], "3 lớp 120 người"], ["không", "không"]]}
    assert isinstance(prompt, Prompt) and prompt.unconfirmed == waiting
