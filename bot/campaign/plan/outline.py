"""The shape of a plan's text: each line's numbering depth, and the clauses of a sentence.

Vietnamese administrative documents number their parts `I.`, `1.`, `1.1.`, `a)`, then use `-` and
`+` for items; a part runs until the next line numbered at the same depth or shallower. Knowing
that is how a ceremony's time is found under its own heading, and who a task is given to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TITLE = 0  # a line in capitals with no numbering ("KẾ HOẠCH", "KỊCH BẢN ..."): a new part

_NUMBERING = re.compile(
    r"^(?:(?P<roman>[IVXL]+)[.)]"
    r"|(?P<deep>\d{1,2}(?:\.\d{1,2})+)\.?"
    r"|(?P<num>\d{1,2})[.)]"
    r"|(?P<letter>[a-zđ])\)"
    r"|(?P<dash>[-–•])(?:\s*\+)?"
    r"|(?P<plus>\+))"
    r"(?:\s+|$|(?=[^\W\d_]))"  # "1.Chủ đề": offices often leave out the space
)


@dataclass(frozen=True)
class Line:
    """One line of the plan: `body` is its text without the numbering."""

    index: int
    text: str
    body: str
    level: int | None  # None: running text, inside whatever part it follows

    @property
    def is_row(self) -> bool:
        return "\t" in self.text

    def cells(self) -> list[str]:
        return [cell.strip() for cell in self.text.split("\t")]


def outline(lines: list[str]) -> list[Line]:
    return [Line(index, text, *_numbering(text)) for index, text in enumerate(lines)]


def _numbering(text: str) -> tuple[str, int | None]:
    """The text without its numbering, and its depth: `I.` 1, `1.` 2, `1.1.` 3, `1.1.1.` 4,
    `a)` 5, `-` 6, `+` 7; a title in capitals 0; running text None."""
    if "\t" in text:
        return text, None
    match = _NUMBERING.match(text)
    if match is None:
        return text, TITLE if _is_title(text) else None
    body = text[match.end() :].strip()
    if match["roman"]:
        level = 1
    elif match["deep"]:
        level = 1 + match["deep"].count(".") + 1
    elif match["num"]:
        level = 2
    elif match["letter"]:
        level = 5
    elif match["dash"]:
        level = 7 if "+" in match[0] else 6
    else:
        level = 7
    return body, level


def _is_title(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and all(c.isupper() for c in letters) and " " in text.strip()


def part(lines: list[Line], start: int) -> list[Line]:
    """The line at `start` and every line under it, up to the next one as deep or shallower."""
    head = lines[start]
    if head.level is None:
        return [head]
    found = [head]
    for line in lines[start + 1 :]:
        if line.level is not None and line.level <= head.level:
            break
        if ends_body(line):
            break
        found.append(line)
    return found


def ends_body(line: Line) -> bool:
    """The closing paragraph ("Trên đây là ...") or the recipients list end every part."""
    lowered = line.body.lower()
    return lowered.startswith(("trên đây", "nơi nhận")) or line.level == TITLE


def clause_at(text: str, position: int) -> tuple[int, int]:
    """The span of the clause around `position`: split at `;` and at sentence ends."""
    start, end = 0, len(text)
    for match in _BREAK.finditer(text):
        if match[0] != ";" and not _starts_sentence(text, match.end()):
            continue
        if match.end() <= position:
            start = match.end()
        elif match.start() >= position:
            end = match.start() + (0 if match[0] == ";" else 1)
            break
    return start, end


_BREAK = re.compile(r";|[.!?]\s+")


def _starts_sentence(text: str, at: int) -> bool:
    return at < len(text) and (text[at].isupper() or text[at] in '“"(')


def items_after(lines: list[Line], head: Line) -> list[Line]:
    """The list items right under `head`, at one depth (deeper or empty items are skipped)."""
    items: list[Line] = []
    for line in lines[head.index + 1 :]:
        level = line.level
        if level is None or level == TITLE or line.is_row:
            break
        if head.level is not None and head.level != TITLE and level <= head.level:
            break
        first = items[0].level if items else None  # never None once an item is in
        if first is not None and level < first:
            break
        if line.body and (first is None or level == first):
            items.append(line)
    return items


def split_items(text: str) -> tuple[str, ...]:
    """`a; b; c` as three tidy items."""
    return tuple(item for piece in text.split(";") if (item := tidy(piece)))


def tidy(text: str) -> str:
    """Trimmed, without closing punctuation (an ellipsis stays) or enclosing quotes, capitalised."""
    text = text.strip().removesuffix("./.").rstrip(" ,;:")
    if text.endswith(".") and not text.endswith(".."):
        text = text[:-1].rstrip(" ,;:")
    if len(text) > 1 and text[0] in '“"' and text[-1] in '”"' and not _QUOTES.search(text[1:-1]):
        text = text[1:-1].strip()
    return text[:1].upper() + text[1:]


_QUOTES = re.compile(r"[“”\"]")
