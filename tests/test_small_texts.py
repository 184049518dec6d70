"""The small texts a new user noticed (issue 16, item 9): times written one way, a reminder that
matches the timeline, the demo's stated duration, labels cut at a word, no dangling "trong đó"."""

import dataclasses
import re
from pathlib import Path

import pytest

from bot.campaign.timeline import Kind, timeline
from bot.campaign.units import Unit
from bot.messages import environment, render, render_delivery, summary
from bot.stats.table import answerable
from tests.test_exports import FORM

ROOT = Path(__file__).resolve().parent.parent
SCHOOL = Unit("th-a", "Trường Tiểu học A", "truong-hoc")


@pytest.mark.parametrize("width", [12, 20, 30, 40, 45, 60])
def test_a_cut_label_ends_on_a_whole_word_with_an_ellipsis(width):
    label = "Bồi dưỡng nâng cao trình độ chuyên môn nghiệp vụ cho cán bộ, công chức, viên chức"
    cut = summary(label, width)
    assert len(cut) <= width and cut.endswith("…")
    kept = cut.removesuffix("…")
    assert label.startswith(kept) and label[len(kept)] in " ,"  # the next word is left whole
    assert not kept.endswith((" ", ","))


def test_a_text_that_fits_or_has_no_space_to_cut_at():
    assert summary("Xóa   mù\nchữ", 40) == "Xóa mù chữ"
    assert summary("x" * 50, 10) == "x" * 9 + "…"  # one word longer than the room: cut inside


def test_xem_shows_every_label_as_whole_words():
    lines = [(row, None) for row in FORM.rows() if row.answer]
    text = render("replies/answers_view", unit=SCHOOL, lines=lines, missing=[])
    words = {word for row in FORM.rows() for word in row.label.replace(",", " ").split()}
    for line in text.splitlines()[1 : 1 + len(lines)]:
        label = line.split(". ", 1)[1].rsplit(": ", 1)[0].removesuffix("…")
        assert all(word in words for word in label.replace(",", " ").split()), line


def test_a_row_leading_into_others_reads_naturally_in_a_prompt_and_a_question(seeds):
    [first] = [
        render_delivery(d, seeds["lac-thuy"])
        for d in timeline(seeds["lac-thuy"], [SCHOOL])
        if d.kind is Kind.DATA_PROMPT and d.context["number"] == 1
    ]
    assert "\n1.1. Tổng số người tham gia (người), trong đó:\n1.2. " in first
    assert not re.search(r"trong đó\W*\(", first)
    row = next(r for r in FORM.rows() if r.code == "1.1")
    asked = environment().globals["a"].question(row, [row])
    assert asked.startswith("📝 Mục 1.1: Tổng số người tham gia\n")
    seen = render("replies/answers_view", unit=SCHOOL, lines=[(row, "160")], missing=[])
    assert "1.1. Tổng số người tham gia: 160" in seen


def reminders(campaign):
    """The units' report reminders, as the sender renders them for a unit missing every row."""
    rows = [row for row in campaign.form.rows() if row.answer]
    for delivery in timeline(campaign, [SCHOOL]):
        if delivery.kind is Kind.DEADLINE_REMINDER:
            context = {**delivery.context, "missing": rows}
            yield (
                delivery.at,
                render_delivery(dataclasses.replace(delivery, context=context), campaign),
            )


def test_a_report_reminder_before_the_form_is_posted_says_when_it_comes(seeds):
    texts = dict((at.strftime("%d/%m"), text) for at, text in reminders(seeds["lac-thuy"]))
    assert set(texts) == {"08/10", "10/10", "11/10"}  # the form is posted on 09/10
    early = texts["08/10"]
    assert "tin nhắn số liệu" not in early
    assert f"Hết Tuần lễ, Loa sẽ gửi mẫu số liệu ({len(answerable(FORM))} mục)" in early
    for later in (texts["10/10"], texts["11/10"]):
        assert "Trả lời các tin nhắn số liệu của Loa" in later


def demo_said(campaign, **more) -> str:
    """The demo's closing words for a run without chats or problems, 60 s long, 130.4 s taken."""
    nothing = {"sent": 0, "chats": 0, "failed": 0, "answered": 0, "problems": []}
    return render(
        "demo", campaign=campaign, chats=[], report=nothing, files=[], start=campaign.week.start,
        end=campaign.week.end, seconds=60, elapsed=130.4, tz=campaign.tz, **more,
    )  # fmt: skip


def test_the_demo_says_how_long_it_took_and_the_docs_agree(seeds):
    banner = demo_said(seeds["lac-thuy"])
    assert "trong 60 giây đồng hồ chiến dịch" in banner
    assert "cả bản chạy thử mất 2 phút 10 giây" in banner
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:.*## .*\(about 2 minutes\)$", makefile, re.M)
    readme = (ROOT / "README.md").read_text()
    assert "about 2 minutes\n(2 min 10 s measured" in readme
    assert "about a minute" not in makefile + readme
