"""A unit's figures as operations: read, recorded, refused, held for a "yes", shown, asked for."""

from bot.ops import figures
from bot.ops.figures import Acknowledgement, Answered, Question, TooMany
from bot.stats.table import answerable
from tests.ops.support import bound, environment, with_units


async def school(db):
    env = environment(db)
    await with_units(env, ("th-a", "truong-hoc"), ("th-b", "truong-hoc"))
    return env, await bound(env, "th-a", "-1001")


async def test_valid_figures_are_recorded_and_acknowledged(db):
    env, place = await school(db)
    answered = await figures.record(
        env, place, [("1.1", "160"), ("1.2", "2 lớp, 80 người")], "telegram:1"
    )
    assert isinstance(answered, Answered) and answered.unusual == [] and answered.asking is None
    ack = answered.ack
    assert [(e.row.code, e.text, e.before) for e in ack.recorded] == [
        ("1.1", "160", None),
        ("1.2", "2 lớp, 80 người", None),
    ]
    total = len(answerable(env.campaign.form))
    assert (ack.total, len(ack.missing), ack.refused, ack.next_row) == (total, total - 2, [], None)
    assert set(ack.fields()) == {"recorded", "refused", "missing", "total", "next_row"}

    again = await figures.record(env, place, [("1.1", "170")], "telegram:1")
    [entry] = again.ack.recorded
    assert (entry.row.code, entry.text, entry.before) == ("1.1", "170", "160")


async def test_a_wrong_figure_is_refused_and_asked_again(db):
    env, place = await school(db)
    answered = await figures.record(env, place, [("1.1", "nhiều lắm")], "telegram:1")
    [refusal] = answered.ack.refused
    assert (refusal.code, refusal.raw, refusal.row.code) == ("1.1", "nhiều lắm", "1.1")
    assert answered.ack.recorded == [] and answered.asking.code == "1.1"
    unknown = await figures.record(env, place, [("99", "3"), ("1", "2")], "telegram:1")
    assert (unknown.ack.refused[0].code, unknown.ack.refused[0].reason) == ("99", "unknown_item")
    assert unknown.asking is None  # two lines: nothing single to ask again


async def test_in_a_baocao_flow_the_acknowledgement_names_the_next_item(db):
    env, place = await school(db)
    first = await figures.next_question(env, place)
    assert isinstance(first, Question) and first.row.code == first.missing[0].code
    answered = await figures.record(env, place, [(first.row.code, "3")], "telegram:1", flow=True)
    assert answered.ack.next_row == answered.asking == answered.ack.missing[0]
    assert answered.asking.code != first.row.code


async def test_an_unusual_figure_waits_for_a_yes(db):
    env, place = await school(db)
    answered = await figures.record(env, place, [("1.1", "50000")], "telegram:1")
    assert answered.ack is None
    [unusual] = answered.unusual
    assert (unusual.row.code, unusual.shown, unusual.why) == ("1.1", "50.000", "count_large")
    await figures.hold(env, place, "m-1", answered.unusual)
    prompt = await figures.prompt_for(env, place, "m-1")
    assert prompt is not None and prompt.items == ["1.1"]
    ack = await figures.confirm(env, place, prompt, "telegram:1")
    assert isinstance(ack, Acknowledgement) and [e.row.code for e in ack.recorded] == ["1.1"]
    shown = await figures.figures_of(env, place.unit)
    assert dict((row.code, text) for row, text in shown.lines)["1.1"] == unusual.shown


async def test_a_figure_given_again_since_the_read_back_is_not_replaced_by_yes(db):
    env, place = await school(db)
    answered = await figures.record(env, place, [("1.1", "50000")], "telegram:1")
    await figures.hold(env, place, "m-1", answered.unusual)
    prompt = await figures.prompt_for(env, place, "m-1")
    env.clock.at = env.clock.at.replace(minute=5)  # a correction comes after the read-back
    await figures.record(env, place, [("1.1", "500")], "telegram:1")
    assert await figures.confirm(env, place, prompt, "telegram:1") is None


async def test_a_question_asked_in_one_chat_answers_nothing_for_another_unit(db):
    env, place = await school(db)
    other = await bound(env, "th-b", "-1002")
    await figures.asked(env, place, "m-7", [answerable(env.campaign.form)[0]])
    assert await figures.prompt_for(env, place, "m-7") is not None
    assert await figures.prompt_for(env, other, "m-7") is None


async def test_more_lines_than_items_are_a_flood(db):
    env, place = await school(db)
    most = len(answerable(env.campaign.form))
    assert await figures.record(env, place, [("1.1", "1")] * (most + 1), "telegram:1") == TooMany(
        most + 1, most
    )


async def test_asking_for_an_item_by_code(db):
    env, place = await school(db)
    asked = await figures.next_question(env, place, "1.2")
    assert isinstance(asked, Question) and asked.row.code == "1.2"
    heading = await figures.next_question(env, place, "4")
    assert isinstance(heading, Acknowledgement) and heading.refused[0].reason == "heading"
    nowhere = await figures.next_question(env, place, "42")
    assert nowhere.refused[0].reason == "unknown_item"
    every = [(row.code, "không") for row in answerable(env.campaign.form)]
    await figures.record(env, place, every, "telegram:1")
    assert await figures.next_question(env, place) is None  # all answered


async def test_places_and_units(db):
    env, place = await school(db)
    found = await figures.place_of(env, "telegram", "-1001")
    assert (found.chat_id, found.unit.id) == (place.chat_id, place.unit.id)
    assert await figures.place_of(env, "telegram", "-9") is None
    assert (await figures.find_unit(env, "TH-A")).id == place.unit.id
    assert figures.any_figure(env.campaign.form, [("1.1", "3")])
    assert not figures.any_figure(env.campaign.form, [("2", "mang theo sổ")])
