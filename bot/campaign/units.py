"""Units (schools, ward committees, centres) as read from a coordinator's spreadsheet.

Offices keep their units in Excel. Loa reads the first sheet of an `.xlsx` workbook, or a CSV as
Excel saves one: UTF-8 with or without its byte-order mark, UTF-16 ("Unicode Text"), or the
Vietnamese Windows code page 1258; cells split by `,`, `;` or a tab. Either way the first row
names the columns and every bad row is reported with its line (the sheet's row number).
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import unicodedata
import zipfile
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from bot.campaign.files import read_bytes
from bot.campaign.scope import parent_code
from bot.errors import Invalid, Problem

REQUIRED = ("code", "name", "type")  # and optionally "parent", or "area" as offices also call it

# A unit code is typed in chats (`/xem th-chi-ne`) and written into spreadsheets: letters and
# digits first (so no cell can read it as a formula: `=`, `+`, `-`, `@`), then also `-`, `_`, `.`.
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
CODE_LENGTH = 64  # the column's size in the database
NAME_LENGTH = 255

ZIP = b"PK\x03\x04"  # an .xlsx is a zip archive, whatever its name says
OLE = b"\xd0\xcf\x11\xe0"  # Excel 97-2003 (.xls), which Loa does not read
WORKBOOK_LIMIT = 100 * 1024 * 1024  # bytes a workbook may unpack to (100,000 units take ~15 MB)
DELIMITERS = (",", ";", "\t")
BYTE_ORDER_MARKS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)

Row = tuple[int, Sequence[str]]  # the line (or sheet row) it came from, and its cells
T = TypeVar("T")


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    type: str  # an audience code of the campaign
    parent: str | None = None


def by_parent(
    items: Iterable[T], parent: Callable[[T], str | None]
) -> list[tuple[str | None, list[T]]]:
    """`items` grouped by their parent (the commune or ward), each group in the items' order;
    the parents in the order they first come, and the items without one (None, or blank) last.
    """
    groups: dict[str | None, list[T]] = {}
    for item in items:
        key = (parent(item) or "").strip() or None
        groups.setdefault(key, []).append(item)
    orphans = groups.pop(None, None)
    found: list[tuple[str | None, list[T]]] = list(groups.items())
    return [*found, (None, orphans)] if orphans else found


def read_units_file(path: Path, types: Collection[str] | None = None) -> list[Unit]:
    """The units of an `.xlsx` workbook (its first sheet) or a CSV file; raises `Invalid`."""
    data = read_bytes(path)
    if data.startswith(ZIP):
        rows = workbook_rows(data, str(path))
    elif data.startswith(OLE):
        raise Invalid([Problem((), "units_xls", {}, str(path), 1)])
    else:
        rows = csv_rows(decode(data, str(path)))
    return units_from_rows(rows, str(path), types)


def read_units(
    text: str, file: str = "units.csv", types: Collection[str] | None = None
) -> list[Unit]:
    """Parse `code,name,type[,parent]` rows (a header line first); every bad row is reported.

    `area` is read as `parent` (the ward or commune a school belongs to); `parent` wins if both.

    With `types`, a unit whose type is not one of them is a problem too.
    """
    return units_from_rows(csv_rows(text.lstrip("\ufeff")), file, types)


def decode(data: bytes, file: str) -> str:
    """The text of a CSV as Excel or an editor saved it, composed (NFC) as Loa stores text.

    UTF-16 and UTF-8 say so with a byte-order mark; without one, UTF-8 is tried first, since text
    in Windows-1258 is almost never valid UTF-8, and Windows-1258 (which writes most Vietnamese
    letters as a base letter and a combining tone mark) last.
    """
    marked = [encoding for mark, encoding in BYTE_ORDER_MARKS if data.startswith(mark)]
    for encoding in marked[:1] or ["utf-8", "cp1258"]:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError as exc:
            failure = exc
    else:
        raise Invalid([Problem((), "units_encoding", {"detail": str(failure)}, file, 1)])
    return unicodedata.normalize("NFC", text)


def csv_rows(text: str) -> list[Row]:
    """The records of a CSV, split by whichever of `,` `;` tab its header line uses most."""
    header = text.split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=header.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    return [(reader.line_num, row) for row in reader]  # line_num: where a record ends


def workbook_rows(data: bytes, file: str) -> list[Row]:
    """The first sheet's rows as text, numbered as Excel numbers them."""
    from openpyxl import load_workbook  # loaded only for a workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > WORKBOOK_LIMIT:  # declared sizes, checked before anything is inflated
            raise Invalid([Problem((), "units_too_big", {"size": unpacked}, file, 1)])
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            sheet.reset_dimensions()  # the size a file declares may be wrong: read every row
            return [
                (number, [_cell_text(value) for value in values])
                for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
            ]
        finally:
            book.close()
    except Invalid:
        raise
    except Exception as exc:  # zipfile's, openpyxl's and lxml's many ways to say "not a workbook"
        problem = Problem((), "units_not_xlsx", {"detail": f"{type(exc).__name__}: {exc}"}, file, 1)
        raise Invalid([problem]) from None


def _cell_text(value: object) -> str:
    """A cell as it reads: 12.0 is `12`, an empty cell is ``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unicodedata.normalize("NFC", str(value))


def units_from_rows(
    rows: Sequence[Row], file: str, types: Collection[str] | None = None
) -> list[Unit]:
    """Units from a header row and the rows under it; every bad row is a problem, all at once."""
    rows = list(itertools.dropwhile(lambda row: not any(cell.strip() for cell in row[1]), rows))
    header = [cell.strip().lower() for cell in rows[0][1]] if rows else []
    if missing := [name for name in REQUIRED if name not in header]:
        line = rows[0][0] if rows else 1
        raise Invalid([Problem((), "units_header", {"missing": missing}, file, line)])
    units: list[Unit] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    spelt: dict[str, str] = {}  # a parent's code -> its first spelling in the file
    for line, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header) and any(cell.strip() for cell in row[len(header) :]):
            problems.append(
                Problem(
                    (), "units_columns", {"count": len(row), "expected": len(header)}, file, line
                )
            )
            continue
        cells = dict(zip(header, (cell.strip() for cell in row), strict=False))
        if problem := _check(cells, types, seen):
            problems.append(Problem((), problem[0], problem[1], file, line))
            continue
        seen.add(cells["code"].lower())
        parent = _parent(cells.get("parent") or cells.get("area") or "", spelt)
        units.append(Unit(cells["code"], cells["name"], cells["type"], parent))
    if problems:
        raise Invalid(problems)
    return units


def _parent(given: str, spelt: dict[str, str]) -> str | None:
    """The parent as the file first spells it: typed by hand, one commune comes as "xã An Bình",
    "Xã An  Bình" or "xa an binh", and is one commune (as a scoped `LOA_ADMINS` entry finds it)."""
    name = " ".join(given.split())
    code = parent_code(name)
    return spelt.setdefault(code, name) if code else name or None


def _check(
    cells: dict[str, str], types: Collection[str] | None, seen: Collection[str]
) -> tuple[str, dict[str, object]] | None:
    """The first thing wrong with a row, as (error code, its context)."""
    if empty := [name for name in REQUIRED if not cells.get(name)]:
        return "units_empty", {"fields": empty}
    code = cells["code"]
    if not CODE.fullmatch(code) or len(code) > CODE_LENGTH:
        return "units_code_format", {"code": code, "limit": CODE_LENGTH}
    if len(cells["name"]) > NAME_LENGTH:
        return "units_name_long", {"length": len(cells["name"]), "limit": NAME_LENGTH}
    if types is not None and cells["type"] not in types:
        return "units_type_unknown", {"type": cells["type"], "known": sorted(types)}
    if code.lower() in seen:
        return "units_duplicate", {"code": code}
    return None
