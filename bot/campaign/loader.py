"""Campaign, form and unit files: read, validate, and say every problem with its file and line."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bot.campaign.checks import check_campaign, check_form
from bot.campaign.files import read_utf8
from bot.campaign.model import Campaign, Form
from bot.campaign.units import Unit, read_units_file
from bot.campaign.yamlfile import Document, YamlProblem, read_yaml
from bot.errors import Invalid, Problem

M = TypeVar("M", bound=BaseModel)

STANDARD_FORM = Path(__file__).resolve().parent / "forms" / "tong-hop.yaml"


def load_campaign(path: str | Path) -> Campaign:
    """Read a campaign file; a `form:` given as a path is read relative to it, a missing one is
    the standard form (seed 001's table) and `form: null` means no figures are asked for."""
    path = Path(path)
    doc = _read(path)
    data = dict(doc.data)
    problems: list[Problem] = []
    form = data.get("form", STANDARD_FORM)
    if isinstance(form, (str, Path)):
        try:
            data["form"] = load_form(form if form is STANDARD_FORM else path.parent / form)
        except Invalid as exc:
            problems += exc.problems
            data.pop("form", None)
    try:
        campaign = _validate(Campaign, data, doc, path)
    except Invalid as exc:
        raise Invalid(problems + exc.problems) from None
    problems += _locate(check_campaign(campaign), doc, path)
    if problems:
        raise Invalid(problems)
    return campaign


def load_form(path: str | Path) -> Form:
    path = Path(path)
    doc = _read(path)
    form = _validate(Form, doc.data, doc, path)
    if problems := _locate(check_form(form), doc, path):
        raise Invalid(problems)
    return form


def load_units(path: str | Path, campaign: Campaign | None = None) -> list[Unit]:
    """Read a units workbook or CSV; with a campaign, their types must be its audiences."""
    types = {a.code for a in campaign.audiences} if campaign else None
    return read_units_file(Path(path), types)


def _read(path: Path) -> Document:
    text = read_utf8(path)
    try:
        doc = read_yaml(text)
    except YamlProblem as exc:
        raise Invalid([Problem((), exc.code, exc.ctx, str(path), exc.line)]) from None
    if not isinstance(doc.data, dict):
        raise Invalid([Problem((), "not_a_mapping", {}, str(path), 1)])
    return doc


def _validate(model: type[M], data: Any, doc: Document, path: Path) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [_from_pydantic(error) for error in exc.errors(include_url=False)]
        raise Invalid(_locate(problems, doc, path)) from None


def _from_pydantic(error: Any) -> Problem:
    loc = tuple(part for part in error["loc"] if isinstance(part, int) or "[" not in part)
    ctx = {key: value for key, value in (error.get("ctx") or {}).items() if key != "error"}
    ctx.setdefault("value", error.get("input"))
    ctx["detail"] = error["msg"]
    if error["type"] == "extra_forbidden" and loc:
        ctx["key"] = loc[-1]
        ctx["suggestion"] = next(
            iter(difflib.get_close_matches(str(loc[-1]), _FIELD_NAMES, 1)), None
        )
    return Problem(loc, error["type"], ctx)


def _locate(problems: list[Problem], doc: Document, path: Path) -> list[Problem]:
    return [Problem(p.path, p.code, p.ctx, str(path), doc.line_of(p.path)) for p in problems]


def _field_names(model: type[BaseModel], seen: set[str]) -> set[str]:
    for name, info in model.model_fields.items():
        seen.add(name)
        for arg in _model_args(info.annotation):
            _field_names(arg, seen)
    return seen


def _model_args(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _model_args(arg)]


_FIELD_NAMES = sorted(_field_names(Campaign, set()))


def campaign_key(path: Path) -> str:
    """The campaign's name in outbox keys: its file name (`2023-lac-thuy`)."""
    return path.stem
