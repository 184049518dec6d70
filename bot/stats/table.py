"""The filled statistics form as plain data: per unit, complete or not, and the totals.

Pure: the exports, `/xem`, `/tiendo` and the straggler reminders all read the form through here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from bot.campaign.model import AnswerKind, Form, FormRow
from bot.stats.grammar import Value

Answers = Mapping[str, Value]  # form row code -> value


class Completion(StrEnum):
    COMPLETE = "complete"
    PARTIAL = "partial"
    SILENT = "silent"


@dataclass(frozen=True)
class UnitSheet:
    """One unit's answers, as the table shows them."""

    code: str
    name: str
    type: str
    answers: Answers = field(default_factory=dict)
    parent: str | None = None  # the commune or ward it belongs to


def answerable(form: Form) -> list[FormRow]:
    """The rows that take a figure (or a text), in printed order: headings without one skipped."""
    return [row for row in form.rows() if row.answer is not None]


def missing(form: Form, answered: Collection[str]) -> list[FormRow]:
    """The answerable rows whose code is not among `answered` (codes, or a unit's `Answers`)."""
    return [row for row in answerable(form) if row.code not in answered]


def completion(form: Form, answered: Collection[str]) -> Completion:
    rows = answerable(form)
    return completion_of(sum(row.code in answered for row in rows), len(rows))


def completion_of(known: int, of: int) -> Completion:
    """A unit that answered `known` of the form's `of` answerable rows: silent, partial or
    complete (`/tiendo` counts them in the database)."""
    if not known:
        return Completion.SILENT
    return Completion.COMPLETE if known >= of else Completion.PARTIAL


def totals(form: Form, sheets: Iterable[UnitSheet]) -> dict[str, Value]:
    """Figures summed over units (pairs part by part); texts joined as `Đơn vị: text` lines.

    A row nobody answered is absent, so the table can leave its cell empty rather than say 0.
    """
    codes = [row.code for row in answerable(form)]
    wanted = set(codes)
    sums: dict[str, list[int]] = {}
    texts: dict[str, list[str]] = {}
    for sheet in sheets:  # each unit's answers, not every row of the form: 10,000 units' twice
        for code, value in sheet.answers.items():
            if value is None or code not in wanted:
                continue
            if isinstance(value, str):
                texts.setdefault(code, []).append(f"{sheet.name}: {value}")
                continue
            total = sums.get(code)
            if total is None:
                sums[code] = list(value)
            else:
                for index, number in enumerate(value[: len(total)]):
                    total[index] += number
    result: dict[str, Value] = {code: tuple(sums[code]) for code in codes if code in sums}
    result.update({code: "\n".join(texts[code]) for code in codes if code in texts})
    return result


Cells = tuple[int | None, int | None, str | None]


def columns(row: FormRow, value: Value | None) -> Cells:
    """The official table's Số lớp/số cuộc thi, Người and Ghi chú cells for a row's value.

    A pair fills both figures; a count of people goes under Người, any other single figure under
    the first; a text goes to Ghi chú.
    """
    if value is None:
        return None, None, None
    if isinstance(value, str):
        return None, None, value
    if row.answer is AnswerKind.PAIR:
        return value[0], value[1], None
    if (row.unit or "").strip().lower() == "người":
        return None, value[0], None
    return value[0], None, None


def counts(form: Form, sheets: Sequence[UnitSheet]) -> dict[Completion, int]:
    """How many of `sheets` are complete, partial, silent (as `completion` says, the form's
    rows read once)."""
    codes = {row.code for row in answerable(form)}
    result = dict.fromkeys(Completion, 0)
    for sheet in sheets:
        known = len(codes.intersection(sheet.answers))
        state = (
            Completion.SILENT
            if not known
            else Completion.COMPLETE
            if known == len(codes)
            else Completion.PARTIAL
        )
        result[state] += 1
    return result
