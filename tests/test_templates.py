"""Every template the code names exists in messages/, found statically in the source.

A name counts where it is rendered (the template argument of `render`, `reply`, `say`,
`notify_coordinators`, `Notice`, or a `template=` keyword), wherever a `"replies/…"` text
stands (constants such as `REGISTERED = "replies/registered"`, a variable's values), and for
each value of the delivery kinds (a delivery's template is its kind). Built names are worked
out: a constant (`f"{REGISTERED}_notice"`), a class's constant (`Kind.ANNOUNCEMENT`), a local
variable's values, and an attribute's (`f"replies/{asked.problem}"`: every `problem=` text in
the package). A built name that cannot be worked out fails the test until its values are
listed in `DYNAMIC`. `messages.render` reads `messages/NAME.txt.j2`; `get_template` a file by
its own name; `catalogue` `messages/NAME.yaml`. The templates' own `{% import %}`s and
`{% include %}`s are checked as well.

The scan reads whatever modules are there: it names no file of the package.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import meta

from bot.messages import environment

ROOT = Path(__file__).resolve().parent.parent

# Calls that take a template's name, and the position it has among their arguments.
TEMPLATE_ARGUMENT = {"render": 0, "reply": 1, "say": 1, "notify_coordinators": 0, "Notice": 0}
FILE_ARGUMENT = {"get_template": 0}  # a file of messages/ by its own name
CATALOGUE_ARGUMENT = {"catalogue": 0}  # messages/NAME.yaml
PAGE_ARGUMENT = {"page": 1}  # the web's pages: messages/web/NAME.html.j2

# Classes whose every value is a template's name: a delivery's template is its kind's value.
TEMPLATE_ENUMS = {"Kind"}

REPLY = re.compile(r"replies/\w+")

# Built names the scan cannot work out, by their source text, with the values they take.
DYNAMIC: dict[str, set[str]] = {
    # /thongbao's refusals: `parse_broadcast` names them, some through the operation's Timing
    "f'replies/{asked.problem}'": {
        "replies/broadcast_bad_date",
        "replies/broadcast_bad_time",
        "replies/broadcast_past",
        "replies/broadcast_quiet",
    },
}

# Built names that pass on a name their callers gave (checked at those calls), by source text.
PASSED_ON = {
    "f'{template}.txt.j2'",  # messages.render: `render(name)` reads NAME.txt.j2
    "f'web/{template}.html.j2'",  # bot.web.pages.page: `page(request, name)`, web/NAME.html.j2
}


@dataclass(frozen=True)
class Use:
    name: str
    kind: str  # "template", "file", "catalogue" or "page"
    where: str  # bot/app.py:12

    def path(self, messages: Path) -> Path:
        if self.kind == "template":
            return messages / f"{self.name}.txt.j2"
        if self.kind == "catalogue":
            return messages / f"{self.name}.yaml"
        if self.kind == "page":
            return messages / "web" / f"{self.name}.html.j2"
        return messages / self.name


@dataclass
class Module:
    name: str
    file: str
    tree: ast.Module
    constants: dict[str, ast.expr] = field(default_factory=dict)
    imported: dict[str, tuple[str, str]] = field(default_factory=dict)  # local: (module, name)


def _named(target: ast.expr, value: ast.expr | None) -> Iterator[tuple[str, ast.expr]]:
    if isinstance(target, ast.Name) and value is not None:
        yield target.id, value


def _assignments(body: list[ast.stmt]) -> Iterator[tuple[str, ast.expr]]:
    """`NAME = value` and `NAME: T = value` directly in a body."""
    for node in body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                yield from _named(target, node.value)
        elif isinstance(node, ast.AnnAssign):
            yield from _named(node.target, node.value)


def _call_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _is_built(expr: ast.expr) -> bool:
    return isinstance(expr, ast.JoinedStr | ast.BinOp)


class Code:
    """The package's modules and what a name can be worked out from: module and class constants,
    imports, and the texts given to each keyword or attribute."""

    def __init__(self, root: Path, package: str = "bot") -> None:
        self.root = root
        self.modules: dict[str, Module] = {}
        self.classes: dict[str, dict[str, ast.expr]] = {}
        self.given: dict[str, list[tuple[Module, ast.expr]]] = {}  # keyword or attribute
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            module = Module(name, path.relative_to(root).as_posix(), tree)
            self.modules[name] = module
            module.constants.update(_assignments(tree.body))
            self._index(module)
        self._parents: dict[ast.AST, ast.AST] = {}
        for module in self.modules.values():
            for parent in ast.walk(module.tree):
                for child in ast.iter_child_nodes(parent):
                    self._parents[child] = parent

    def _index(self, module: Module) -> None:
        for node in ast.walk(module.tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    module.imported[alias.asname or alias.name] = (node.module, alias.name)
            elif isinstance(node, ast.ClassDef):
                members = self.classes.setdefault(node.name, {})
                for name, value in _assignments(node.body):
                    members[name] = value
                    self.given.setdefault(name, []).append((module, value))  # a field's default
            elif isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg:
                        self.given.setdefault(keyword.arg, []).append((module, keyword.value))
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Attribute) and node.value is not None:
                        self.given.setdefault(target.attr, []).append((module, node.value))

    # -- working a name out -------------------------------------------------------------------

    def values(
        self, expr: ast.expr, module: Module, seen: frozenset[int] = frozenset()
    ) -> set[str] | None:
        """The texts `expr` can be; None when the scan cannot tell."""
        if id(expr) in seen:
            return set()  # a value defined through itself adds nothing new
        seen |= {id(expr)}
        if isinstance(expr, ast.Constant):
            return {expr.value} if isinstance(expr.value, str) else set()
        if isinstance(expr, ast.JoinedStr):
            parts = []
            for part in expr.values:
                if isinstance(part, ast.FormattedValue):
                    if part.format_spec is not None or part.conversion != -1:
                        return None
                    part = part.value
                found = self.values(part, module, seen)
                if found is None:
                    return None
                parts.append(sorted(found))
            return {"".join(combination) for combination in itertools.product(*parts)}
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            left, right = (
                self.values(expr.left, module, seen),
                self.values(expr.right, module, seen),
            )
            if left is None or right is None:
                return None
            return {a + b for a in left for b in right}
        if isinstance(expr, ast.IfExp):
            body, orelse = (
                self.values(expr.body, module, seen),
                self.values(expr.orelse, module, seen),
            )
            return None if body is None or orelse is None else body | orelse
        if isinstance(expr, ast.Name):
            return self._name(expr, module, seen)
        if isinstance(expr, ast.Attribute):
            return self._attribute(expr, module, seen)
        return None

    def _name(self, expr: ast.Name, module: Module, seen: frozenset[int]) -> set[str] | None:
        local = [value for name, value in self._local_assignments(expr) if name == expr.id]
        if local:
            return self._union(local, module, seen)
        if expr.id in module.constants:
            return self.values(module.constants[expr.id], module, seen)
        if expr.id in module.imported:
            source, name = module.imported[expr.id]
            if source in self.modules and name in self.modules[source].constants:
                return self.values(self.modules[source].constants[name], self.modules[source], seen)
        return self._given(expr.id, seen)  # a parameter: what callers give under its name

    def _attribute(
        self, expr: ast.Attribute, module: Module, seen: frozenset[int]
    ) -> set[str] | None:
        if expr.attr == "value":  # an enum member's value: the member itself
            return self.values(expr.value, module, seen)
        if isinstance(expr.value, ast.Name):
            owner = module.imported.get(expr.value.id, (None, expr.value.id))[1]
            if expr.attr in self.classes.get(owner, {}):
                return self.values(self.classes[owner][expr.attr], module, seen)
        return self._given(expr.attr, seen)

    def _given(self, name: str, seen: frozenset[int]) -> set[str] | None:
        given = self.given.get(name, [])
        found: set[str] = set()
        for module, value in given:
            values = self.values(value, module, seen)
            if values is None:
                return None
            found |= values
        return found or None

    def _union(
        self, exprs: list[ast.expr], module: Module, seen: frozenset[int]
    ) -> set[str] | None:
        found: set[str] = set()
        for expr in exprs:
            values = self.values(expr, module, seen)
            if values is None:
                return None
            found |= values
        return found

    def _local_assignments(self, node: ast.AST) -> Iterator[tuple[str, ast.expr]]:
        """Assignments in the function around `node`, at any depth of it."""
        scope = self._parents.get(node)
        while scope is not None and not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
            scope = self._parents.get(scope)
        if scope is None:
            return
        for inner in ast.walk(scope):
            if isinstance(inner, ast.Assign):
                for target in inner.targets:
                    yield from _named(target, inner.value)
            elif isinstance(inner, ast.AnnAssign):
                yield from _named(inner.target, inner.value)

    # -- what the code names ----------------------------------------------------------------------

    def uses(self) -> tuple[list[Use], list[str]]:
        """Every name the code gives a template, a messages/ file or a catalogue; and the built
        names it gives that the scan cannot work out (`file:line: source`)."""
        uses: list[Use] = []
        unknown: list[str] = []

        def named(expr: ast.expr, kind: str, module: Module, strict: bool) -> None:
            where = f"{module.file}:{expr.lineno}"
            source = ast.unparse(expr)
            if source in PASSED_ON:
                return
            values = DYNAMIC.get(source) or self.values(expr, module)
            if values is None:
                if strict or _is_built(expr):
                    unknown.append(f"{where}: {source}")
                return
            uses.extend(Use(value, kind, where) for value in sorted(values))

        for module in self.modules.values():
            for node in ast.walk(module.tree):
                if isinstance(node, ast.Call):
                    self._call(node, module, named)
                elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                    if REPLY.fullmatch(node.value):
                        uses.append(Use(node.value, "template", f"{module.file}:{node.lineno}"))
                elif isinstance(node, ast.JoinedStr):
                    first = node.values[0] if node.values else None
                    if isinstance(first, ast.Constant) and str(first.value).startswith("replies/"):
                        named(node, "template", module, strict=True)
                elif isinstance(node, ast.ClassDef) and node.name in TEMPLATE_ENUMS:
                    for _, value in _assignments(node.body):
                        named(value, "template", module, strict=True)
        return uses, unknown

    def _call(self, call: ast.Call, module: Module, named) -> None:
        name = _call_name(call)
        for table, kind in (
            (TEMPLATE_ARGUMENT, "template"),
            (FILE_ARGUMENT, "file"),
            (CATALOGUE_ARGUMENT, "catalogue"),
            (PAGE_ARGUMENT, "page"),
        ):
            position = table.get(name or "")
            if position is not None and len(call.args) > position:
                argument = call.args[position]
                if not isinstance(argument, ast.Starred):
                    named(argument, kind, module, strict=False)
        for keyword in call.keywords:
            if keyword.arg == "template":
                named(keyword.value, "template", module, strict=False)

    def enums_found(self) -> set[str]:
        return TEMPLATE_ENUMS & set(self.classes)


def missing(root: Path, messages: Path) -> list[str]:
    """What the code under `root` names that `messages` lacks, and what the scan cannot tell."""
    uses, unknown = Code(root).uses()
    lines = {
        f"{use.where}: {use.path(messages).relative_to(messages.parent)} does not exist"
        for use in uses
        if not use.path(messages).is_file()
    }
    lines |= {
        f"{where}: a template name the test cannot work out: list its values in DYNAMIC"
        for where in unknown
    }
    return sorted(lines, key=_by_place)


def _by_place(line: str) -> tuple[str, int, str]:
    file, number, rest = line.split(":", 2)
    return file, int(number), rest


def test_every_template_the_code_names_exists():
    problems = missing(ROOT, ROOT / "messages")
    assert not problems, "\n".join(problems)


def test_every_file_in_messages_is_named_by_the_code():
    """The other way round: a file no name reaches is dead, or named in a way the scan cannot
    see (and a blind scan would let the test above pass on nothing)."""
    code = Code(ROOT)
    assert code.enums_found() == TEMPLATE_ENUMS, "a delivery kind enum is gone: TEMPLATE_ENUMS"
    messages = ROOT / "messages"
    uses, _ = code.uses()
    named = _with_what_they_use({use.path(messages) for use in uses}, messages)
    unnamed = [
        str(path.relative_to(ROOT))
        for path in sorted(messages.rglob("*"))
        if path.is_file() and path not in named
    ]
    assert not unnamed, "no code names these: " + ", ".join(unnamed)


def _with_what_they_use(named: set[Path], messages: Path) -> set[Path]:
    """`named` and every template they extend, import or include, at any depth."""
    env = environment()
    found, todo = set(named), [path for path in named if path.suffix == ".j2"]
    while todo:
        tree = env.parse(todo.pop().read_text(encoding="utf-8"))
        for name in meta.find_referenced_templates(tree):
            path = messages / name if name else None
            if path is not None and path.is_file() and path not in found:
                found.add(path)
                todo.append(path)
    return found


def test_the_templates_import_and_include_only_what_exists():
    env = environment()
    messages = ROOT / "messages"
    problems = []
    for path in sorted(messages.rglob("*.j2")):
        tree = env.parse(path.read_text(encoding="utf-8"))
        for name in meta.find_referenced_templates(tree):
            if name is None:
                problems.append(f"{path.relative_to(ROOT)}: a template named at run time")
            elif not (messages / name).is_file():
                problems.append(f"{path.relative_to(ROOT)}: messages/{name} does not exist")
    assert not problems, "\n".join(problems)


# -- the checker itself ------------------------------------------------------------------------


def test_the_checker_fails_on_a_name_with_no_template(tmp_path):
    (tmp_path / "bot").mkdir()
    (tmp_path / "messages" / "replies").mkdir(parents=True)
    for name in ("replies/here", "replies/here_notice", "replies/bad_date", "week"):
        (tmp_path / "messages" / f"{name}.txt.j2").write_text("x", encoding="utf-8")
    (tmp_path / "bot" / "x.py").write_text(
        """
from enum import StrEnum

HERE = "replies/here"
GONE = "replies/gone"


class Kind(StrEnum):
    WEEK = "week"
    LOST = "lost"


def handle(loa, message, query, other):
    loa.reply(message, HERE)
    loa.notify_coordinators(f"{HERE}_notice")
    loa.notify_coordinators(f"{HERE}_gone")
    loa.reply(message, f"replies/{query.problem}")
    render(Kind.WEEK)
    render("nowhere", x=1)
    loa.reply(message, f"replies/{other.unknowable}")
    Asked(problem="bad_date")
    Asked(problem="bad_time")
""",
        encoding="utf-8",
    )
    assert missing(tmp_path, tmp_path / "messages") == [
        "bot/x.py:5: messages/replies/gone.txt.j2 does not exist",
        "bot/x.py:10: messages/lost.txt.j2 does not exist",
        "bot/x.py:16: messages/replies/here_gone.txt.j2 does not exist",
        "bot/x.py:17: messages/replies/bad_time.txt.j2 does not exist",
        "bot/x.py:19: messages/nowhere.txt.j2 does not exist",
        "bot/x.py:20: f'replies/{other.unknowable}': a template name the test cannot work out: list its values in DYNAMIC",
    ]
