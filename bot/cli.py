"""The `loa` command line (also `python -m bot`)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.campaign.checks import Invalid
from bot.campaign.loader import load_campaign, load_units
from bot.campaign.timeline import timeline
from bot.messages import describe, render, render_delivery

INVALID = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="loa", description="Loa: Lifelong Learning Week bot.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="validate campaign files")
    check.add_argument("files", nargs="+", type=Path, metavar="FILE")
    check.set_defaults(run=_check)

    preview = commands.add_parser(
        "preview", help="every delivery a campaign will make, in time order"
    )
    preview.add_argument("file", type=Path, metavar="FILE")
    preview.add_argument("--units", type=Path, metavar="CSV", help="expand over these units")
    preview.add_argument("--json", action="store_true", help="print the JSON array of DESIGN.md §4")
    preview.set_defaults(run=_preview)

    args = parser.parse_args(argv)
    return args.run(args)


def _check(args: argparse.Namespace) -> int:
    status = 0
    for file in args.files:
        try:
            campaign = load_campaign(file)
        except Invalid as exc:
            for problem in exc.problems:
                print(describe(problem))
            status = INVALID
            continue
        print(render("check_ok", file=file, campaign=campaign, count=len(timeline(campaign))))
    return status


def _preview(args: argparse.Namespace) -> int:
    try:
        campaign = load_campaign(args.file)
        units = load_units(args.units, campaign) if args.units else None
    except Invalid as exc:
        for problem in exc.problems:
            print(describe(problem), file=sys.stderr)
        return INVALID
    rows = [(d, render_delivery(d, campaign)) for d in timeline(campaign, units)]
    if args.json:
        objects = [
            {
                "at": d.at.isoformat(),
                "kind": d.kind.value,
                "audience": d.addressee,
                "template": d.template,
                "text": text,
            }
            for d, text in rows
        ]
        print(json.dumps(objects, ensure_ascii=False, indent=2))
    else:
        print(render("preview", campaign=campaign, deliveries=rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
