"""Units (schools, ward committees, centres) as read from a coordinator's CSV file."""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from dataclasses import dataclass

from bot.campaign.checks import Invalid, Problem

REQUIRED = ("code", "name", "type")  # and optionally "parent", or "area" as offices also call it


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    type: str  # an audience code of the campaign
    parent: str | None = None


def read_units(
    text: str, file: str = "units.csv", types: Collection[str] | None = None
) -> list[Unit]:
    """Parse `code,name,type[,parent]` rows (a header line first); every bad row is reported.

    `area` is read as `parent` (the ward or commune a school belongs to); `parent` wins if both.

    With `types`, a unit whose type is not one of them is a problem too.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    rows = [(reader.line_num, row) for row in reader]  # line_num: where a record ends
    header = [cell.strip().lower() for cell in rows[0][1]] if rows else []
    if missing := [name for name in REQUIRED if name not in header]:
        raise Invalid([Problem((), "units_header", {"missing": missing}, file, 1)])
    units: list[Unit] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for line, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            problems.append(
                Problem(
                    (), "units_columns", {"count": len(row), "expected": len(header)}, file, line
                )
            )
            continue
        cells = dict(zip(header, (cell.strip() for cell in row), strict=False))
        if empty := [name for name in REQUIRED if not cells.get(name)]:
            problems.append(Problem((), "units_empty", {"fields": empty}, file, line))
        elif types is not None and cells["type"] not in types:
            problems.append(
                Problem(
                    (),
                    "units_type_unknown",
                    {"type": cells["type"], "known": sorted(types)},
                    file,
                    line,
                )
            )
        elif cells["code"] in seen:
            problems.append(Problem((), "units_duplicate", {"code": cells["code"]}, file, line))
        else:
            seen.add(cells["code"])
            units.append(
                Unit(
                    cells["code"],
                    cells["name"],
                    cells["type"],
                    cells.get("parent") or cells.get("area") or None,
                )
            )
    if problems:
        raise Invalid(problems)
    return units
