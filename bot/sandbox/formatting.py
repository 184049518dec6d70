"""Text as Telegram reads it: HTML and MarkdownV2 parsing, detected entities, trimming.

Telegram measures entity offsets and lengths in UTF-16 code units, and reports parse errors at
UTF-8 byte offsets of the text as sent; the errors carry its exact wording because clients (and
Loa's logs) match on it.
"""

from __future__ import annotations

import re
from typing import Any

from bot.sandbox.wire import JSON, ApiError, bad, cant_parse

_AUTO = re.compile(
    r"(?P<bot_command>(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/]))"
    r"|(?P<mention>(?<![\w@])@[A-Za-z0-9_]{5,32}(?![\w@]))"
    r"|(?P<url>\bhttps?://[^\s<>\"]*[^\s<>\".,;:!?)\]'])"
)
_OPAQUE = frozenset({"code", "pre", "text_link"})  # nothing is detected inside these


def u16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode())


def entity_text(text: str, entity: JSON) -> str:
    units = text.encode("utf-16-le")
    start, end = 2 * entity["offset"], 2 * (entity["offset"] + entity["length"])
    return units[start:end].decode("utf-16-le")


def auto_entities(text: str) -> list[JSON]:
    """The entities Telegram finds by itself: commands, @mentions, links."""
    return [
        {"type": match.lastgroup, "offset": u16(text[: match.start()]), "length": u16(match[0])}
        for match in _AUTO.finditer(text)
    ]


def formatted(
    raw: str, explicit: Any, parse_mode: str | None, limit: int, too_long: str
) -> tuple[str, list[JSON]]:
    """Text after parse_mode (or with the entities given), trimmed as Telegram trims it."""
    if isinstance(explicit, list):
        text, entities = raw, explicit
    else:
        text, entities = _parse(raw, parse_mode)
    text, entities = _strip(text, entities)
    if len(text) > limit:
        raise bad(too_long)
    return text, entities


def _parse(source: str, parse_mode: str | None) -> tuple[str, list[JSON]]:
    mode = (parse_mode or "").lower()
    entities: list[JSON]
    if not mode:
        text, entities = source, []
    elif mode == "html":
        text, entities = _parse_html(source)
    elif mode in ("markdown", "markdownv2"):
        text, entities = _parse_markdown(source, v2=mode == "markdownv2")
    else:
        raise bad("unsupported parse_mode")
    opaque = [(e["offset"], e["offset"] + e["length"]) for e in entities if e["type"] in _OPAQUE]
    for found in auto_entities(text):
        start, end = found["offset"], found["offset"] + found["length"]
        if not any(start < stop and begin < end for begin, stop in opaque):
            entities.append(found)
    return text, sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def _strip(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Telegram drops leading and trailing white space; entities move and shrink with it."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    shift, size = u16(text[: len(text) - len(text.lstrip())]), u16(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_TAG = re.compile(r"([^\s/>]*)(.*)", re.DOTALL)
_HTML_ATTR = re.compile(r"""([A-Za-z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")


def _html_char(name: str) -> str | None:
    """The character an HTML entity stands for; Telegram knows four names and all numbers."""
    if name in _HTML_NAMED:
        return _HTML_NAMED[name]
    try:
        if name[:2] in ("#x", "#X"):
            return chr(int(name[2:], 16))
        if name[:1] == "#":
            return chr(int(name[1:]))
    except (ValueError, OverflowError):
        return None
    return None


def _parse_html(source: str) -> tuple[str, list[JSON]]:
    out: list[str] = []
    size = 0
    open_tags: list[tuple[str, JSON | None]] = []
    entities: list[JSON] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "&":
            end = source.find(";", i + 1, i + 12)
            decoded = _html_char(source[i + 1 : end]) if end != -1 else None
            if decoded is not None:
                out.append(decoded)
                size += u16(decoded)
                i = end + 1
                continue
        elif char == "<":
            at = _byte_offset(source, i)
            end = source.find(">", i)
            if end == -1:
                raise cant_parse(f"Unclosed start tag at byte offset {at}")
            tag = source[i + 1 : end]
            if tag.startswith("/"):
                name = tag[1:].strip().lower()
                if not open_tags:
                    raise cant_parse(f"Unexpected end tag at byte offset {at}")
                expected, entity = open_tags.pop()
                if name != expected:
                    raise cant_parse(
                        f'Unmatched end tag at byte offset {at}, expected "</{expected}>", '
                        f'found "</{name}>"'
                    )
                if entity is not None and size > entity["offset"]:
                    entities.append({**entity, "length": size - entity["offset"]})
            else:
                match = _HTML_TAG.fullmatch(tag)
                assert match is not None  # the pattern matches any text
                name = match[1].lower()
                attrs = {
                    m[1].lower(): next((g for g in m.groups()[1:] if g is not None), "")
                    for m in _HTML_ATTR.finditer(match[2])
                }
                open_tags.append((name, _html_entity(name, attrs, open_tags, size, at)))
            i = end + 1
            continue
        out.append(char)
        size += u16(char)
        i += 1
    if open_tags:
        raise cant_parse(f'Can\'t find end tag corresponding to start tag "{open_tags[-1][0]}"')
    return "".join(out), entities


def _html_entity(
    name: str, attrs: dict[str, str], open_tags: list[tuple[str, JSON | None]], offset: int, at: int
) -> JSON | None:
    kind = _HTML_TAGS.get(name)
    if kind is None or (name == "span" and attrs.get("class") != "tg-spoiler"):
        raise cant_parse(f'Unsupported start tag "{name}" at byte offset {at}')
    entity: JSON = {"type": kind, "offset": offset}
    if kind == "text_link":
        if not attrs.get("href"):
            return None  # Telegram keeps the text and drops a link without an address
        entity["url"] = attrs["href"]
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = attrs.get("emoji-id", "")
    elif kind == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif kind == "code" and open_tags and open_tags[-1][0] == "pre" and open_tags[-1][1]:
        language = attrs.get("class", "")
        if language.startswith("language-"):
            open_tags[-1][1]["language"] = language.removeprefix("language-")
            return None  # <pre><code class="language-x"> is one pre entity with a language
    return entity


_MD_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MD_MARKS_V2 = {
    "__": "underline",
    "||": "spoiler",
    "*": "bold",
    "_": "italic",
    "~": "strikethrough",
}
_MD_MARKS_V1 = {"*": "bold", "_": "italic"}
_MD_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "[": "TextUrl",
}


def _parse_markdown(source: str, *, v2: bool) -> tuple[str, list[JSON]]:
    """MarkdownV2 (and the legacy Markdown) as far as Telegram's rules and errors go.

    Not covered: blockquotes, `___` ambiguity and custom emoji; legacy links are plain links.
    """
    marks = _MD_MARKS_V2 if v2 else _MD_MARKS_V1
    out: list[str] = []
    size = 0
    open_marks: list[tuple[str, int, int]] = []  # (mark, UTF-16 offset, index in source)
    entities: list[JSON] = []

    def unclosed(mark: str, index: int) -> ApiError:
        at = _byte_offset(source, index)
        if not v2:
            return cant_parse(f"Can't find end of the entity starting at byte offset {at}")
        name = _MD_NAMES.get(marks.get(mark, mark), "Pre" if mark == "```" else "Code")
        return cant_parse(f"Can't find end of {name} entity at byte offset {at}")

    i = 0
    while i < len(source):
        char = source[i]
        following = source[i + 1] if i + 1 < len(source) else ""
        if char == "\\" and following and (0 < ord(following) < 127 if v2 else following in "_*`["):
            out.append(following)
            size += 1
            i += 2
            continue
        if char == "`":
            fence = "```" if source.startswith("```", i) else "`"
            start, j, language = size, i + len(fence), None
            line_end = source.find("\n", j)
            if fence == "```" and line_end != -1 and re.fullmatch(r"[\w+#-]*", source[j:line_end]):
                language, j = source[j:line_end] or None, line_end + 1
            while j < len(source) and not source.startswith(fence, j):
                if v2 and source[j] == "\\" and source[j + 1 : j + 2] in ("`", "\\"):
                    j += 1
                out.append(source[j])
                size += u16(source[j])
                j += 1
            if j >= len(source):
                raise unclosed(fence, i)
            if size > start:
                entity: JSON = {"type": "pre" if fence == "```" else "code"}
                entity |= {"offset": start, "length": size - start}
                if language:
                    entity["language"] = language
                entities.append(entity)
            i = j + len(fence)
            continue
        if char == "[" and not (not v2 and open_marks):
            open_marks.append(("[", size, i))
            i += 1
            continue
        if char == "]" and open_marks and open_marks[-1][0] == "[":
            _, start, _ = open_marks.pop()
            i += 1
            if source.startswith("(", i):
                close = source.find(")", i)
                if close == -1:
                    raise unclosed("[", i)
                url = source[i + 1 : close].replace("\\)", ")")
                if url and size > start:
                    entities.append(
                        {"type": "text_link", "offset": start, "length": size - start, "url": url}
                    )
                i = close + 1
            continue
        mark = next((m for m in marks if source.startswith(m, i)), None)
        if mark is not None and (v2 or not open_marks or open_marks[-1][0] == mark):
            if open_marks and open_marks[-1][0] == mark:
                _, start, _ = open_marks.pop()
                if size > start:
                    entities.append({"type": marks[mark], "offset": start, "length": size - start})
            else:
                open_marks.append((mark, size, i))
            i += len(mark)
            continue
        if v2 and char in _MD_RESERVED:
            raise cant_parse(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        out.append(char)
        size += u16(char)
        i += 1
    if open_marks:
        raise unclosed(open_marks[-1][0], open_marks[-1][2])
    return "".join(out), entities
