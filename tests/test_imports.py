"""The package's import graph: no cycles, and each layer imports only the layers beneath it.

Every import counts, wherever it stands: at the top, inside a function, under `if TYPE_CHECKING:`
(a cycle hidden from the interpreter is still two modules that cannot be understood apart).
`from bot.x import y` imports `bot.x.y` when `y` is a module, else `bot.x`. Importing `bot.x.y`
also runs `bot/x/__init__.py`, but that implicit edge is left out: a package is initialised
before its modules, whatever they import, and re-exporting `__init__` files would otherwise be
cycles of their own.

The layers are docs/design.md's ("Layers"), as a table below.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "bot"


@dataclass(frozen=True)
class Edge:
    importer: str
    imported: str
    file: str  # relative to the root: `bot/app.py`
    line: int

    def where(self) -> str:
        return f"{self.file}:{self.line}"


def module_names(root: Path, package: str = PACKAGE) -> dict[str, Path]:
    """Every module under `root/package`, dotted (`bot.stats.grammar`; a package by its own name)."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _is_package(name: str, modules: Mapping[str, Path]) -> bool:
    return modules[name].name == "__init__.py"


def _absolute(name: str, module: str, level: int, modules: Mapping[str, Path]) -> str:
    """The module `from <level dots><name> import` names, seen from `module`."""
    if level == 0:
        return name
    base = module.split(".")
    if not _is_package(module, modules):
        base = base[:-1]  # a plain module's dots start at its package
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, name] if name else base)


def _known(name: str, modules: Mapping[str, Path]) -> str | None:
    """`name` if it is one of ours, else the deepest of ours it lies in (`import bot.x.Thing`)."""
    parts = name.split(".")
    while parts:
        if ".".join(parts) in modules:
            return ".".join(parts)
        parts.pop()
    return None


def edges_of(module: str, modules: Mapping[str, Path], root: Path) -> Iterator[Edge]:
    """Every import of one of ours in `module`, at any depth of its syntax tree."""
    path = modules[module]
    file = path.relative_to(root).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node.module or "", module, node.level, modules)
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                targets.append(submodule if submodule in modules else source)
        for known in dict.fromkeys(_known(target, modules) for target in targets):
            if known is not None and known != module:
                yield Edge(module, known, file, node.lineno)


def import_graph(root: Path = ROOT, package: str = PACKAGE) -> dict[str, list[Edge]]:
    """Each module's imports of the package's modules (one edge per import statement)."""
    modules = module_names(root, package)
    return {module: list(edges_of(module, modules, root)) for module in modules}


def cycles(graph: Mapping[str, list[Edge]]) -> dict[frozenset[str], list[Edge]]:
    """Each group of modules that import one another, round about (Tarjan's strongly connected
    components), with one cycle through it: the imports that close it, in the order they go
    round."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def connect(node: str) -> None:  # recursion depth is the package's import depth: small
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for edge in graph.get(node, []):
            if edge.imported not in index:
                connect(edge.imported)
                low[node] = min(low[node], low[edge.imported])
            elif edge.imported in on_stack:
                low[node] = min(low[node], index[edge.imported])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return {frozenset(group): _cycle_in(group, graph) for group in groups}


def _cycle_in(group: set[str], graph: Mapping[str, list[Edge]]) -> list[Edge]:
    """The shortest way round from the group's first module back to it (breadth first)."""
    start = min(group)
    came_by: dict[str, Edge] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for edge in graph[node]:
                if edge.imported not in group or edge.imported in came_by:
                    continue
                came_by[edge.imported] = edge
                if edge.imported == start:
                    path = [edge]
                    while path[0].importer != start:
                        path.insert(0, came_by[path[0].importer])
                    return path
                following.append(edge.imported)
        frontier = following
    raise AssertionError(f"no way round {sorted(group)}")  # a strongly connected group has one


def show_cycle(cycle: list[Edge]) -> str:
    return " -> ".join([cycle[0].importer, *(f"{e.imported} ({e.where()})" for e in cycle)])


# -- layers ----------------------------------------------------------------------------------

# Which layer each module is in: the longest prefix that names it or a package holding it.
LAYER_OF = {
    "bot.campaign": "core",  # the model, loading, the timeline, plan import
    "bot.campaign.plan": "plan",  # reading an office's plan document into a campaign draft
    "bot.stats": "core",  # the answer grammar, the table, the export's data
    "bot.documents": "documents",  # the export's files: XLSX, CSV, DOCX, worded from messages/
    "bot.address": "core",
    "bot.errors": "core",  # the errors more than one layer raises or catches
    "bot.images": "core",  # a unit's photo checked and normalised: bytes in, bytes out
    "bot.messages": "messages",  # every text a user reads (rendering, catalogues)
    "bot.channels": "channels",  # the platform adapters
    "bot.store": "store",
    "bot.store.migrations": "migrations",  # Alembic's scripts: history, run by `loa db`
    "bot.delivery": "delivery",
    "bot.ops": "ops",  # the application layer: what every face does through
    "bot.conversation": "chat",  # a face: chat commands and replies
    "bot.cli": "cli",  # a face: the command line
    "bot.web": "web",  # a face: the coordinators' console and the units' form
    "bot.cli_text": "cli",
    "bot.cli_errors": "cli",
    "bot.config": "support",  # settings from the environment, logging, writing a file whole
    "bot.logs": "support",
    "bot.channels.defaults": "support",  # plain constants: the platforms' defaults, read by config
    "bot.store.defaults": "support",
    "bot.outfile": "support",
    "bot.sandbox": "sandbox",  # fake Bot API servers: the demo's, the tests', the benchmarks'
    "bot.app": "composition",  # what puts the layers together
    "bot.service": "composition",
    "bot.demo": "composition",
    "bot.__main__": "composition",
}

# What each layer may import besides itself. Composition may import anything.
MAY_IMPORT: dict[str, set[str]] = {
    "package": set(),
    "core": set(),  # pure: no I/O, no platform, no wording
    "messages": {"core"},
    "plan": {"core", "messages", "support"},  # its draft is written through a template
    "documents": {"core", "messages"},  # printed words live in messages/ like all others
    # an adapter's own hint to its users (Zalo's "text only") is worded like every other text
    "channels": {"core", "support", "messages"},
    "store": {"core", "support"},
    "migrations": {"store", "core", "support", "messages"},  # a refusal is worded like any
    "delivery": {"store", "channels", "core", "messages", "support"},  # renders its deliveries
    "ops": {"delivery", "store", "core", "support"},  # no wording, no platform, no face
    "chat": {"ops", "documents", "messages", "core", "support"},  # and MAY_IMPORT_MODULES
    # `loa run` and `loa demo` start the composition: the command line is the program's door
    "cli": {"ops", "documents", "plan", "messages", "core", "support", "composition"},
    "web": {"ops", "documents", "messages", "core", "support"},
    "support": {"core"},  # each setting defined once, read by whichever layer needs it
    "sandbox": set(),  # a world of its own: it knows no more of Loa than Telegram does
    "composition": set(LAYER_OF.values()),
}

# Single modules a layer may import beyond its layers.
MAY_IMPORT_MODULES: dict[str, set[str]] = {
    # InboundMessage and the other types a handler reads; the store's rows, which operations
    # return as they are (a unit, a chat), for their types
    "chat": {"bot.channels.base", "bot.store.models"},
    # the command line is the program's door: it opens (and upgrades) the database it works on
    "cli": {"bot.store.db", "bot.store.models"},
    "web": {"bot.store.models"},
}


def layer_of(module: str) -> str:
    if module == PACKAGE:
        return "package"  # bot/__init__.py: a docstring
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        if (layer := LAYER_OF.get(".".join(parts[:end]))) is not None:
            return layer
    raise KeyError(f"{module} is in no layer: add it (or its package) to LAYER_OF")


def allowed(edge: Edge) -> bool:
    mine, theirs = layer_of(edge.importer), layer_of(edge.imported)
    return (
        mine == theirs
        or theirs in MAY_IMPORT[mine]
        or edge.imported in MAY_IMPORT_MODULES.get(mine, set())
    )


def violations(graph: Mapping[str, list[Edge]]) -> dict[tuple[str, str], list[Edge]]:
    found: dict[tuple[str, str], list[Edge]] = {}
    for edges in graph.values():
        for edge in edges:
            if not allowed(edge):
                found.setdefault((edge.importer, edge.imported), []).append(edge)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, list[Edge]]:
    return import_graph()


def test_the_package_has_no_import_cycle(graph):
    found = cycles(graph)
    lines = [show_cycle(cycle) for cycle in found.values()]
    assert not lines, "import cycles (each import that closes one, with where it is):\n" + (
        "\n".join(lines)
    )


def test_every_module_is_in_a_layer(graph):
    for module in graph:
        layer_of(module)  # raises, naming the module


def test_each_layer_imports_only_what_it_may(graph):
    found = violations(graph)
    lines = [
        f"{edge.where()}: {layer_of(edge.importer)} module {edge.importer} imports "
        f"{edge.imported} ({layer_of(edge.imported)}); {layer_of(edge.importer)} may import "
        f"{', '.join(sorted(MAY_IMPORT[layer_of(edge.importer)])) or 'nothing else'}"
        for pair in sorted(found)
        for edge in found[pair]
    ]
    assert not lines, "layer rules broken:\n" + "\n".join(lines)


# -- the checker itself ------------------------------------------------------------------------


def _package(tmp_path: Path, files: Mapping[str, str]) -> Path:
    for name, text in {"pkg/__init__.py": "", **files}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_the_checker_sees_every_kind_of_import(tmp_path):
    root = _package(
        tmp_path,
        {
            "pkg/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import B\n",
            "pkg/b.py": "def f():\n    from . import c\n",
            "pkg/c.py": "import pkg.sub.d\n",
            "pkg/sub/__init__.py": "",
            "pkg/sub/d.py": "from .. import a\nfrom ..sub import e\nfrom pkg.sub.e import Thing\n",
            "pkg/sub/e.py": "import os\nfrom pkg import nothing_here\n",
        },
    )
    graph = import_graph(root, "pkg")
    assert {module: sorted(e.imported for e in edges) for module, edges in graph.items()} == {
        "pkg": [],
        "pkg.a": ["pkg.b"],
        "pkg.b": ["pkg.c"],
        "pkg.c": ["pkg.sub.d"],
        "pkg.sub": [],
        "pkg.sub.d": ["pkg.a", "pkg.sub.e", "pkg.sub.e"],
        "pkg.sub.e": ["pkg"],
    }
    ((group, cycle),) = cycles(graph).items()
    assert group == {"pkg.a", "pkg.b", "pkg.c", "pkg.sub.d"}
    assert [edge.importer for edge in cycle] == ["pkg.a", "pkg.b", "pkg.c", "pkg.sub.d"]
    assert show_cycle(cycle).startswith("pkg.a -> pkg.b (pkg/a.py:3) -> pkg.c (pkg/b.py:2)")


def test_the_checker_finds_no_cycle_where_there_is_none(tmp_path):
    root = _package(tmp_path, {"pkg/a.py": "import pkg.b\n", "pkg/b.py": "import os\n"})
    assert cycles(import_graph(root, "pkg")) == {}
