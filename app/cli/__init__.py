"""python -m app [--data-dir DIR] COMMAND: the desktop app's services, headless.

Exit status: 0 done, 2 bad input (nothing stored), 1 anything else; sync adds 3 (invoices
still wait) and 4 (some were rejected); month-close adds 3 (still waiting), 4 (mismatch) and
5 (closed). Each command group is a module with a register()
that adds its parsers, each parser naming its handler with set_defaults(handler=...).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from app import __version__
from app.base import logs
from app.base.options import add_global_options
from app.cli import (
    customers,
    deliver,
    export,
    history,
    invoices,
    items,
    months,
    paper,
    printing,
    red_forms,
    seller,
    statistics,
    stock,
    sync,
    taxcodes,
    taxpayer,
    trust,
)
from app.cli.common import EXIT_ERROR, EXIT_OK, data_dir_of, resolve_token
from app.core.errors import DeskError
from app.store import storage_errors

log = logging.getLogger(__name__)

GROUPS = (seller, invoices, trust, printing, export, sync, history, taxcodes, items, customers, stock, taxpayer,
          months, paper, deliver, red_forms, statistics)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description="发票离线开票台 Fapiao Desk")
    parser.add_argument("--version", action="version", version=f"Fapiao Desk 发票离线开票台 {__version__}")
    add_global_options(parser)
    parser.set_defaults(handler=None)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in GROUPS:
        group.register(commands)
    return parser


def _silence_stdout() -> None:
    """Point stdout at the null device, so the interpreter's last flush does not fail on the closed pipe."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def run_command(args: argparse.Namespace) -> int:
    """Run the command parsed into args; every failure the desk expects is caught here, once."""
    logs.configure(data_dir_of(args))
    try:
        if getattr(args, "desk_token", False):
            args.token = resolve_token(args)  # --token - / --token-file; never one typed in the arguments
        status: int = args.handler(args)
        sys.stdout.flush()  # here, where a closed pipe is caught, not at exit
        return status
    except BrokenPipeError:
        # `list | head`: the reader stopped reading. Not an error of the desk; nothing more to say to anyone.
        _silence_stdout()
        return EXIT_OK
    except DeskError as error:
        log.info("%s: %s", args.command, error.describe("en"))
        print(error.describe(args.lang), file=sys.stderr)
        return error.exit_code
    except Exception as error:  # a defect, not an input: logged in full, the clerk gets a short message
        failure = storage_errors.classify(error, data_dir_of(args) or Path.cwd())
        if failure is not None:  # the disk, not the desk: named, without a traceback
            log.warning("%s: %s (%s)", args.command, failure.describe("en"), error)
            print(failure.describe(args.lang), file=sys.stderr)
            return failure.exit_code
        log.exception("%s failed", args.command)
        where = logs.log_path()
        print(f"内部错误，未完成（internal error, not done）：{type(error).__name__}: {error}"
              + (f"\n  详情见日志 (details in the log): {where}" if where else ""), file=sys.stderr)
        return EXIT_ERROR


def main(argv: list[str] | None = None) -> int:
    """The command line alone (the desktop app starts from app.main)."""
    args = build_parser().parse_args(argv)
    if args.handler is None:
        build_parser().print_help()
        return EXIT_ERROR
    return run_command(args)
