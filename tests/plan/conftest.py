"""The five seed plans as the files a coordinator receives: the text, and a Word file built from it.

The Word file is what an office would have typed: Markdown headings become Word headings, `**`
and `*` become bold and italic runs, and runs of tab-separated lines become real Word tables.
"""

import re
from pathlib import Path

import docx
import pytest

SEED_DIR = Path(__file__).parent / "seeds"
SEEDS = {
    "gia-lam": "000_e07fd2a46ddac388.txt",
    "lac-thuy": "001_a83cd7d9df778fd0.txt",
    "quan-12": "002_aa2e28f41dc8681f.txt",
    "khanh-hoa": "003_c6c466d0fff10c5a.txt",
    "brvt": "004_7f2129aae9864c65.txt",
}
FORMATS = ("txt", "docx")

_EMPHASIS = re.compile(r"(\*{1,3})")


def seed_text(key: str) -> str:
    return (SEED_DIR / SEEDS[key]).read_text(encoding="utf-8")


def word_file(text: str, path: Path) -> Path:
    """Save `text` as a Word document at `path`, its tab-separated runs as tables."""
    document = docx.Document()
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if "\t" in line:
            rows = []
            while index < len(lines) and ("\t" in lines[index] or _blank_inside(lines, index)):
                if lines[index].strip():
                    rows.append(lines[index].split("\t"))
                index += 1
            _table(document, rows)
            continue
        if line.strip():
            _paragraph(document, line)
        index += 1
    document.save(path)
    return path


def _blank_inside(lines: list[str], index: int) -> bool:
    """A blank line between two table rows (a page break in the seed) stays in the table."""
    return not lines[index].strip() and index + 1 < len(lines) and "\t" in lines[index + 1]


def _table(document, rows: list[list[str]]) -> None:
    width = max(len(row) for row in rows)
    table = document.add_table(rows=len(rows), cols=width)
    for row, cells in zip(table.rows, rows, strict=True):
        for cell, text in zip(row.cells, cells, strict=False):
            cell.text = text


def _paragraph(document, line: str) -> None:
    heading = re.match(r"^(#{1,6})\s*(.*)$", line)
    if heading:
        paragraph = document.add_heading(level=min(len(heading[1]), 9))
        line = heading[2]
    else:
        paragraph = document.add_paragraph()
    bold = italic = False
    for piece in _EMPHASIS.split(line.rstrip()):
        if piece.startswith("*") and set(piece) == {"*"}:
            bold ^= len(piece) >= 2
            italic ^= len(piece) in (1, 3)
            continue
        if piece:
            run = paragraph.add_run(piece)
            run.bold, run.italic = bold, italic


@pytest.fixture(scope="session")
def seed_files(tmp_path_factory) -> dict[tuple[str, str], Path]:
    """(seed, format) -> the file: the seed's own text, and a Word file built from it once."""
    folder = tmp_path_factory.mktemp("plans")
    files = {}
    for key, name in SEEDS.items():
        files[key, "txt"] = SEED_DIR / name
        files[key, "docx"] = word_file(seed_text(key), folder / f"{key}.docx")
    return files
