"""A plan draft written as a campaign YAML file that `loa check` accepts, every gap commented.

The layout and the comments live in `messages/import_plan_draft.txt.j2`; this module only
decides the values the model needs and the plan may not give: codes for audiences and deadlines,
a name and an issuer, and which of the plan's facts the model's rules would refuse.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass

from bot.campaign.model import DeadlineKind
from bot.campaign.plan.fields import Deadline, Opening, PlanDraft
from bot.messages import render

CODE_WORDS = 5  # an audience code is the first words of its name, without accents
_FILLER = {"cac", "va", "cua", "o", "tai"}
_DEADLINE_CODES = {
    DeadlineKind.REPORT: "bao-cao",
    DeadlineKind.PLAN: "ke-hoach",
    DeadlineKind.OTHER: "han-nop",
}


@dataclass(frozen=True)
class Audience:
    code: str
    name: str


@dataclass(frozen=True)
class DraftDeadline:
    code: str
    deadline: Deadline
    kind: DeadlineKind  # `other` when the plan's report would fall before the week ends
    audience: tuple[str, ...]  # audience codes


def draft_yaml(plan: PlanDraft, source: str, output: str) -> str:
    """The campaign file for `plan`, read from the document `source`, to be saved as `output`."""
    audiences = _audiences(plan)
    return (
        render(
            "import_plan_draft",
            plan=plan,
            opening=plan.opening or Opening(date=None),
            source=source,
            output=output,
            name=_name(plan),
            audiences=list(audiences.values()),
            deadlines=_deadlines(plan, audiences),
            issued=_issued(plan),
            q=_quote,
        )
        + "\n"
    )


def _name(plan: PlanDraft) -> str:
    year = f" năm {plan.year}" if plan.year else ""
    return f"Tuần lễ hưởng ứng học tập suốt đời{year}"


def _issued(plan: PlanDraft) -> str | None:
    """The plan's date, unless it falls after the week (the model would refuse it)."""
    if plan.issued is None or (plan.week_end and plan.issued > plan.week_end):
        return None
    return plan.issued.isoformat()


def _audiences(plan: PlanDraft) -> dict[str, Audience]:
    """Each unit a deadline names, by name; "A; B" (a letter's addressees) are two units."""
    found: dict[str, Audience] = {}
    taken: set[str] = set()
    for deadline in plan.deadlines:
        for name in _names(deadline.audience):
            if name not in found:
                found[name] = Audience(_code(name, taken), name)
    return found


def _deadlines(plan: PlanDraft, audiences: dict[str, Audience]) -> list[DraftDeadline]:
    taken: set[str] = set()
    drafted = []
    for deadline in plan.deadlines:
        kind = deadline.kind
        last_day = deadline.date.toordinal() - (1 if deadline.before else 0)
        if kind is DeadlineKind.REPORT and plan.week_end and last_day < plan.week_end.toordinal():
            kind = DeadlineKind.OTHER  # a report cannot be due before the week it reports on
        code = _unique(_DEADLINE_CODES[kind], taken)
        codes = tuple(audiences[name].code for name in _names(deadline.audience))
        drafted.append(DraftDeadline(code, deadline, kind, codes))
    return drafted


def _names(audience: str | None) -> list[str]:
    return [name.strip() for name in (audience or "").split(";") if name.strip()]


def _code(name: str, taken: set[str]) -> str:
    """`Ủy ban nhân dân 11 phường` -> `ubnd-11-phuong`."""
    short = re.sub(r"^(?:Ủy|Uỷ) ban nhân dân\b", "UBND", name, flags=re.IGNORECASE)
    plain = unicodedata.normalize("NFD", short.replace("Đ", "D").replace("đ", "d"))
    plain = "".join(c for c in plain if not unicodedata.combining(c)).lower()
    words = [w for w in re.findall(r"[a-z0-9]+", plain) if w not in _FILLER]
    code = "-".join(words[:CODE_WORDS])
    return _unique(code if re.search("[a-z]", code) else f"don-vi-{code}".strip("-"), taken)


def _unique(code: str, taken: set[str]) -> str:
    candidate, number = code, 2
    while candidate in taken:
        candidate, number = f"{code}-{number}", number + 1
    taken.add(candidate)
    return candidate


def _quote(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is a subset of it)."""
    return json.dumps(text, ensure_ascii=False)
