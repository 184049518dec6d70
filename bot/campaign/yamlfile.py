"""Read YAML keeping the line of every key, so each error can point at `FILE:LINE`.

Dates, times and sexagesimal numbers are left as text: the model parses them and says what is
wrong in words a coordinator understands (YAML would turn `8:00` into 480 and fail on 31/9 with
a Python traceback).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

FieldPath = tuple[str | int, ...]  # keys and list indexes from the document root

_DROPPED = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}


class _Loader(yaml.SafeLoader):
    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, re.Pattern[str]]]]] = {
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
            doc.data = _build(loader, node, (), doc.lines)
        return doc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark and any(word in (exc.context or "") for word in ("flow", "quoted")):
            mark = exc.context_mark  # an unclosed bracket or quote: point where it opened
        line = mark.line + 1 if mark else 1
        raise YamlProblem(line, "yaml_syntax", {"detail": exc.problem or str(exc)}) from None
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        # explicit tags (!!python/..., !!timestamp), unhashable keys, recursive aliases
        raise YamlProblem(1, "yaml_syntax", {"detail": str(exc).splitlines()[0]}) from None
    finally:
        loader.dispose()


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
