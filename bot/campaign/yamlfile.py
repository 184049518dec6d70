"""Read YAML keeping the line of every key, so each error can point at `FILE:LINE`.

Dates, times and sexagesimal numbers are left as text: the model parses them and says what is
wrong in words a coordinator understands (YAML would turn `8:00` into 480 and fail on 31/9 with
a Python traceback).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

FieldPath = tuple[str | int, ...]  # keys and list indexes from the document root

# How many values a document may hold once its aliases (`*name`) are expanded: a campaign has
# hundreds; nine nested aliases of nine make 9**9 from 342 bytes (a "billion laughs").
MAX_VALUES = 100_000

_DROPPED = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}


class _Loader(yaml.SafeLoader):
    pass


# Set after the class: PyYAML keeps the resolvers per class, but its stubs declare them per
# instance, so a ClassVar in the body would not type-check.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _DROPPED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$"), list("-+0123456789")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)?\.[0-9]+(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."),
)


@dataclass
class Document:
    """Plain data read from YAML, with the line of each key and list item (1-based)."""

    data: Any
    lines: dict[FieldPath, int] = field(default_factory=dict)

    def line_of(self, path: FieldPath) -> int:
        """The line of `path`, or of its nearest ancestor that has one."""
        for end in range(len(path), 0, -1):
            if (line := self.lines.get(path[:end])) is not None:
                return line
        return 1


@dataclass
class YamlProblem(Exception):
    line: int
    code: str
    ctx: dict[str, Any]


def read_yaml(text: str) -> Document:
    """Parse one YAML document; raise `YamlProblem` for bad syntax or a repeated key."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        doc = Document(None)
        if node is not None:
            _count_values(node, {}, set())
            doc.data = _build(loader, node, (), doc.lines)
        return doc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark and any(word in (exc.context or "") for word in ("flow", "quoted")):
            mark = exc.context_mark  # an unclosed bracket or quote: point where it opened
        line = mark.line + 1 if mark else 1
        detail, kind = exc.problem or str(exc), _kind(f"{exc.context} {exc.problem}")
        raise YamlProblem(line, "yaml_syntax", {"detail": detail, "kind": kind}) from None
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        # explicit tags (!!python/..., !!timestamp), unhashable keys
        detail = str(exc).splitlines()[0]
        raise YamlProblem(1, "yaml_syntax", {"detail": detail, "kind": _kind(detail)}) from None
    finally:
        loader.dispose()


def _count_values(node: Node, counted: dict[int, int], open_: set[int]) -> int:
    """How many values `node` holds with its aliases expanded, counted once per distinct node
    (so in time linear in the text); YamlProblem past `MAX_VALUES` or for an alias that holds
    itself."""
    if id(node) in counted:
        return counted[id(node)]
    if id(node) in open_:
        raise YamlProblem(node.start_mark.line + 1, "yaml_alias_loop", {})
    open_.add(id(node))
    total = 1
    if isinstance(node, MappingNode):
        children = [child for pair in node.value for child in pair]
    else:
        children = node.value if isinstance(node, SequenceNode) else []
    for child in children:
        total += _count_values(child, counted, open_)
        if total > MAX_VALUES:
            raise YamlProblem(
                node.start_mark.line + 1, "yaml_too_many_values", {"limit": MAX_VALUES}
            )
    open_.discard(id(node))
    counted[id(node)] = total
    return total


# What PyYAML's English says, as a kind the Vietnamese message names (messages/errors.yaml).
_KINDS = (
    ("expected ',' or ']'", "flow_sequence"),
    ("expected ',' or '}'", "flow_mapping"),
    ("mapping values are not allowed", "colon"),
    ("could not find expected ':'", "missing_colon"),
    ("cannot start any token", "tab"),
    ("found undefined alias", "undefined_alias"),
    ("found duplicate anchor", "duplicate_anchor"),
    ("expected <block end>", "indentation"),
    ("did not find expected key", "indentation"),
    ("did not find expected '-'", "indentation"),
    ("unknown escape character", "escape"),
    ("quoted scalar", "unclosed_quote"),
    ("another document", "two_documents"),
    ("determine a constructor", "tag"),
    ("unhashable", "key_not_text"),
)


def _kind(detail: str) -> str | None:
    return next((kind for text, kind in _KINDS if text in detail), None)


def _build(loader: _Loader, node: Node, path: FieldPath, lines: dict[FieldPath, int]) -> Any:
    if isinstance(node, MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node)
            line = key_node.start_mark.line + 1
            if key in out:
                raise YamlProblem(line, "yaml_duplicate_key", {"key": key})
            lines[(*path, key)] = line
            out[key] = _build(loader, value_node, (*path, key), lines)
        return out
    if isinstance(node, SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            items.append(_build(loader, item, (*path, index), lines))
        return items
    assert isinstance(node, ScalarNode)
    return loader.construct_object(node)
