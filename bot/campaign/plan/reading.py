"""A plan document as plain lines: Word (.docx, tables included), text (.txt) and Markdown (.md).

Table rows become tab-separated lines, as the seed texts carry them. Markdown emphasis and
heading marks are dropped, and a line that a page break cut in two is joined again, so the
extraction reads one kind of text whatever the file was.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path

import docx
from docx.document import Document as WordDocument
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from lxml.etree import XMLSyntaxError

from bot.errors import Invalid, Problem

SUFFIXES = (".docx", ".txt", ".md")
# A .docx is a zip that python-docx inflates whole into memory, so its declared sizes are checked
# first (zipfile never inflates an entry past its declared size). A plan with photos is a few MB;
# Word's XML deflates about 10:1, a zip bomb (1.75 KB -> 1 GB) about 600,000:1.
MAX_PARTS = 1_000
MAX_INFLATED = 64 * 2**20  # all parts together
MAX_RATIO = 200  # for a part inflating past 1 MB
_RATIO_FROM = 2**20
LETTERHEAD_ROWS, LETTERHEAD_COLUMNS = 3, 2

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff\u00ad\ufffe\uffff"))
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # never text, and YAML refuses them
_MARKUP = re.compile(r"^#{1,6}\s*|\*+|\\(?=[-*#.\[\]()])")
_SPACES = re.compile(r"[ \u00a0\u2007\u202f]+")
_PIPE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?$")
_LIST_LETTER = re.compile(r"^[a-zđ]\)\s")
_SENTENCE_END = (".", ":", ";", "!", "?")


def read_lines(path: Path) -> list[str]:
    """The document's lines; Invalid (`plan_*` codes) when it cannot be read."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise _problem("plan_unsupported", path, suffix=path.suffix)
    if not path.exists():
        raise _problem("plan_missing", path)
    if not path.is_file():
        raise _problem("plan_not_a_file", path)
    raw = _docx_lines(path) if suffix == ".docx" else _text_lines(path)
    lines = normalize(raw)
    if not lines:
        raise _problem("plan_empty", path)
    return lines


def normalize(raw: list[str]) -> list[str]:
    """Clean lines: Unicode NFC, no markup, single spaces, page-break fragments joined."""
    lines: list[str] = []
    for line in raw:
        text = _clean(line)
        if not text:
            continue
        if lines and _continues(lines[-1], text):
            lines[-1] = f"{lines[-1]} {text}"
        else:
            lines.append(text)
    return lines


def _clean(line: str) -> str:
    text = _CONTROL.sub(" ", unicodedata.normalize("NFC", line).translate(_INVISIBLE))
    if "\t" in text:
        cells = [_clean(cell) for cell in text.split("\t")]
        return "\t".join(cells) if any(cells) else ""
    text = _MARKUP.sub("", text)
    return _SPACES.sub(" ", text).strip()


def _continues(previous: str, text: str) -> bool:
    """A line starting in lower case after one left unfinished is the same sentence."""
    return (
        text[0].islower()
        and not _LIST_LETTER.match(text)
        and "\t" not in previous + text
        and not previous.endswith(_SENTENCE_END)
    )


def _text_lines(path: Path) -> list[str]:
    data = _read_bytes(path)
    encoding = "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        raise _problem("plan_not_utf8", path) from None
    if "\x00" in text:
        raise _problem("plan_not_utf8", path)
    return [_from_pipes(line) for line in text.splitlines()]


def _from_pipes(line: str) -> str:
    """A Markdown table row `| a | b |` as the tab-separated row `a\tb`; its rule line goes."""
    stripped = line.strip()
    if not (stripped.startswith("|") and stripped.endswith("|") and len(stripped) > 1):
        return line
    if _PIPE_RULE.match(stripped):
        return ""
    return "\t".join(cell.strip() for cell in stripped[1:-1].split("|"))


def _read_bytes(path: Path) -> bytes:
    try:
        if (size := path.stat().st_size) > MAX_INFLATED:  # a plan's text is a few hundred KB
            megabytes = f"{size / 2**20:,.0f}".replace(",", ".")
            raise _problem("plan_too_big", path, megabytes=megabytes)
        return path.read_bytes()
    except OSError as exc:
        raise _problem("plan_unreadable", path, detail=exc.strerror or str(exc)) from None


def _docx_lines(path: Path) -> list[str]:
    try:
        _check_archive(path)
        with path.open("rb") as stream:
            document = docx.Document(stream)
            return list(_blocks(document))
    except OSError as exc:
        raise _problem("plan_unreadable", path, detail=exc.strerror or str(exc)) from None
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, XMLSyntaxError):
        raise _problem("plan_not_docx", path) from None


def _check_archive(path: Path) -> None:
    """Refuse a .docx whose parts would inflate past what a plan document needs."""
    with zipfile.ZipFile(path) as archive:
        parts = archive.infolist()
    inflated = sum(part.file_size for part in parts)
    swollen = [
        part
        for part in parts
        if part.file_size > _RATIO_FROM and part.file_size > MAX_RATIO * max(1, part.compress_size)
    ]
    if len(parts) > MAX_PARTS or inflated > MAX_INFLATED or swollen:
        megabytes = f"{inflated / 2**20:,.0f}".replace(",", ".")
        raise _problem("plan_docx_too_big", path, megabytes=megabytes, parts=str(len(parts)))


def _blocks(document: WordDocument) -> Iterator[str]:
    """Paragraphs and table rows in reading order; soft line breaks split paragraphs.

    A small table before any paragraph is the letterhead (issuer and number beside the motto,
    place and date): its cells are read as lines, so the date line stays a line of its own.
    """
    started = False
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            started = started or bool(block.text.strip())
            yield from block.text.split("\n")
        elif isinstance(block, Table) and not started and _small(block):
            yield from _letterhead(block)
        elif isinstance(block, Table):
            yield from _rows(block)


def _small(table: Table) -> bool:
    return len(table.rows) <= LETTERHEAD_ROWS and len(table.columns) <= LETTERHEAD_COLUMNS


def _letterhead(table: Table) -> Iterator[str]:
    for row in table.rows:
        for tc in row._tr.tc_lst:
            for paragraph in _Cell(tc, table).paragraphs:
                yield from paragraph.text.split("\n")


def _rows(table: Table) -> Iterator[str]:
    """Each row as tab-separated cells; a merged cell's text once, its other columns empty."""
    for row in table.rows:
        cells: list[str] = []
        for tc in row._tr.tc_lst:  # `row.cells` would repeat a merged cell's text per column
            text = " ".join(_Cell(tc, table).text.split())
            cells += [text] + [""] * (tc.grid_span - 1)
        yield "\t".join(cells)


def _problem(code: str, path: Path, **ctx: str) -> Invalid:
    return Invalid([Problem((), code, {"file": str(path), **ctx})])
