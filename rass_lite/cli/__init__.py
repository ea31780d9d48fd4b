"""The `rass-lite` command line. Each subcommand lives in its own module with `register` and `run`."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from ..errors import RassError
from ..progress import Cancelled
from . import bench, capture, chat, cvec, datasets, judge, mitigate, models, probe, rass, report, score, tui

COMMANDS = (models, chat, capture, probe, score, cvec, judge, datasets, bench, report, rass, mitigate, tui)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rass-lite",
        description="Find, measure and reduce overrefusal in local GGUF language models.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show llama.cpp's log messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        logging.getLogger("rass_lite.backends.llama").setLevel(logging.ERROR)
    try:
        return args.run(args) or 0
    except RassError as exc:
        if os.environ.get("RASS_LITE_DEBUG"):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Cancelled):
        print("interrupted", file=sys.stderr)
        return 130

