"""The command line in Vietnamese: argparse's own words and every command's help, from messages/.

argparse looks its words up through `gettext` each time it uses them (`usage: `, `the following
arguments are required: %s`); `vietnamese()` answers those lookups from messages/argparse.yaml
while the parser is built and used. The help of commands and options comes from messages/cli.yaml
through `localize()`, which walks the finished parser, so a command added later keeps its English
help until the catalogue names it (tests/cli/test_cli_text.py says which).
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator, Mapping
from importlib import metadata
from typing import Any

from bot.messages import catalogue


@contextlib.contextmanager
def vietnamese() -> Iterator[None]:
    """argparse speaks Vietnamese inside this block (its words are looked up when used)."""
    words = catalogue("argparse")

    def gettext(text: str) -> str:
        word = words.get(text, text)
        return word if isinstance(word, str) else text  # the catalogue is flat: text to text

    def ngettext(singular: str, plural: str, count: int) -> str:
        return gettext(singular if count == 1 else plural)

    saved = argparse._, argparse.ngettext  # type: ignore[attr-defined]
    argparse._, argparse.ngettext = gettext, ngettext  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]


def localize(parser: argparse.ArgumentParser, command: str = "loa") -> None:
    """Give `parser` and its subcommands, recursively, the help texts of messages/cli.yaml."""
    texts: Mapping[str, Any] = catalogue("cli")  # nested: a command's own texts, metavars
    own: Mapping[str, str] = texts.get(command, {})
    parser.description = own.get("description", own.get("help", parser.description))
    for action in parser._actions:
        if isinstance(action.metavar, str):
            action.metavar = texts["metavars"].get(action.metavar, action.metavar)
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                name = choice.dest  # the subcommand's name
                key = name if command == "loa" else f"{command} {name}"
                choice.help = texts.get(key, {}).get("help", choice.help)
                localize(action.choices[name], key)
        elif action.help is not argparse.SUPPRESS:
            action.help = own.get(argument_key(action), action.help)


def argument_key(action: argparse.Action) -> str:
    """How messages/cli.yaml names an argument: its long option (`--units`), else its `dest`."""
    return max(action.option_strings, key=len, default=None) or action.dest


def version() -> str:
    """`loa 0.1.0`: the installed package's version."""
    try:
        return f"loa {metadata.version('loa')}"
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "loa ?"
