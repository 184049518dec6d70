"""Every text a user reads: Jinja2 templates and the error wording, all in `messages/`."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.campaign.model import Campaign, FormRow
from bot.campaign.timeline import Delivery
from bot.errors import Problem
from bot.stats.grammar import part_names

MESSAGES_DIR = Path(
    os.environ.get("LOA_MESSAGES", Path(__file__).resolve().parent.parent / "messages")
)


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(MESSAGES_DIR),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        auto_reload=False,
    )
    env.filters["summary"] = summary
    env.filters["label"] = label  # a row's label standing alone: no ":" nor "trong đó" at its end
    env.tests["leading"] = leads_in  # a label ending in "trong đó:" (the rows below detail it)
    env.filters["codes"] = codes  # `1.3, 1.4, …`: a macro's loop here cost a tenth of a reply
    env.filters["parts"] = part_names  # `Số cuộc/người` -> ("cuộc", "người")
    env.globals["f"] = env.get_template("_format.j2").module  # dates "Thứ Hai, 02/10/2023", "8h00"
    # the form's rows, figures and refusals; a global, as an `{% import %}` costs every render
    env.globals["a"] = env.get_template("_answers.j2").module
    return env


def codes(rows: Sequence[FormRow], limit: int = 12) -> str:
    """The rows' codes, the first `limit` of them: `1.3, 1.4, 2, …`."""
    shown = ", ".join(row.code for row in rows[:limit])
    return shown + ", …" if len(rows) > limit else shown


def summary(text: str, width: int) -> str:
    """The text on one line, at most `width` characters: cut after its last whole word that
    fits, with an ellipsis (inside a word only when the first is longer than that)."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    cut = flat[: width - 1]
    if flat[width - 1] != " " and " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-–") + "…"


_LEADING = re.compile(r"[,;]?\s*trong đó\s*:?\s*$", re.IGNORECASE)


def label(text: str) -> str:
    """A form row's label as a sentence uses it: without the closing colon, and without the
    "trong đó" (of which) that leads into the rows detailing it in the printed table."""
    return _LEADING.sub("", text).rstrip().rstrip(":").rstrip()


def leads_in(text: str) -> bool:
    return _LEADING.search(text) is not None


def render(template: str, /, **context: Any) -> str:
    """Render `messages/TEMPLATE.txt.j2` (any variable name is free, `template` included)."""
    return environment().get_template(f"{template}.txt.j2").render(**context).strip()


def written(macro: str, value: object) -> str:
    """A value as every message writes it, outside a template: `written("time", at)` is "9h06"
    (the macros of `_format.j2`)."""
    return str(getattr(environment().globals["f"], macro)(value))


def render_delivery(delivery: Delivery, campaign: Campaign, form_link: str | None = None) -> str:
    """A planned message; `form_link`: the unit's form on the web, when the message gives it."""
    return render(
        delivery.template,
        campaign=campaign,
        delivery=delivery,
        unit=delivery.unit,
        opening=campaign.opening,
        form_link=form_link,
        **delivery.context,
    )


@cache
def catalogue(name: str) -> dict[str, Any]:
    """A YAML file of short texts in messages/ (`errors`, `commands`). Each has its own shape
    (flat texts, a menu in two parts, a table's headers as lists): its readers know it."""
    path = MESSAGES_DIR / f"{name}.yaml"
    texts = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(texts, dict):
        raise ValueError(f"{path}: expected a mapping of texts")
    return texts


def command_menu() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(name, description) of the commands for everyone, and of the coordinators' extra ones."""
    menu = catalogue("commands")
    return list(menu["everyone"].items()), list(menu["coordinators"].items())


def describe(problem: Problem) -> str:
    """`FILE:LINE: field: message`, the message in Vietnamese."""
    errors = catalogue("errors")
    wording = errors.get(problem.code, errors["_default"])
    message = environment().from_string(wording).render(**problem.ctx).strip()
    field = field_name(problem.path)
    text = f"{field}: {message}" if field else message
    return f"{problem.file}:{problem.line}: {text}" if problem.file else text


def field_name(path: tuple[str | int, ...]) -> str:
    """`("opening", "agenda", 3, "start")` -> `opening.agenda[4].start` (rows counted from 1)."""
    name = ""
    for part in path:
        name += f"[{part + 1}]" if isinstance(part, int) else f".{part}" if name else str(part)
    return name
