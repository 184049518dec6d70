"""`loa --help` in Vietnamese: every command and every argument has its text in messages/cli.yaml,
and argparse's own words are translated wherever argparse uses them."""

import argparse
import contextlib
import io
import re

import pytest

from bot import cli, cli_text
from bot.messages import catalogue


def parsers() -> list[tuple[str, argparse.ArgumentParser]]:
    """Every parser of `loa` with its command (`units import`)."""
    found = []

    def walk(command: str, parser: argparse.ArgumentParser) -> None:
        found.append((command, parser))
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(name if command == "loa" else f"{command} {name}", sub)

    walk("loa", cli.build_parser())
    return found


def test_every_command_and_argument_has_a_vietnamese_text():
    texts = catalogue("cli")
    missing = []
    for command, parser in parsers():
        own = texts.get(command, {})
        if command != "loa" and "help" not in own:
            missing.append(command)
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            if cli_text.argument_key(action) not in own:
                missing.append(f"{command} {cli_text.argument_key(action)}")
    assert missing == [], "add these to messages/cli.yaml"


def test_argparse_is_english_again_outside_loa():
    with cli_text.vietnamese():
        assert argparse._("usage: ") == "cách dùng: "
    assert argparse._("usage: ") == "usage: "
    parser = argparse.ArgumentParser(prog="other")
    with pytest.raises(SystemExit), contextlib.redirect_stderr(io.StringIO()) as err:
        parser.parse_args(["--nope"])
    assert "error: unrecognized arguments" in err.getvalue()


def test_every_translated_text_keeps_argparse_s_placeholders():
    for english, vietnamese in catalogue("argparse").items():
        placeholders = re.compile(r"%\(\w+\)[rs]|%[rs]")
        assert set(placeholders.findall(vietnamese)) == set(placeholders.findall(english))
