"""The options every invocation takes (`--data-dir`, `--lang`), apart from the commands: the window starts
from these alone, without importing the command modules (and what they import) it does not need."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_global_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="folder of the store (default: the user data dir, or $FAPIAO_DESK_DATA)")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of messages and of the app")


def window_options(argv: list[str]) -> argparse.Namespace | None:
    """The options when argv names no command (nor --help / --version): the desktop app's; else None."""
    parser = argparse.ArgumentParser(add_help=False)
    add_global_options(parser)
    try:
        known, rest = parser.parse_known_args(argv)
    except SystemExit:  # a bad --lang: the full parser says what is wrong
        return None
    return known if not rest else None
