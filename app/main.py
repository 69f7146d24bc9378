"""The program's entry point (`python -m app`, the `fapiao-desk` script, the bundle): a command
of the command line, or with none the desktop app. It sits above both, so neither imports the other."""

from __future__ import annotations

import sys

from app.base.options import window_options


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    window = window_options(argv)
    if window is not None:
        # No command: the window. The command modules (and the printing, export and sync code they import)
        # are not loaded for it: they would only slow the start.
        from app.ui.application import run_desktop  # Qt is loaded only for the window

        return run_desktop(window.data_dir, lang=window.lang)
    from app.cli import build_parser, run_command

    args = build_parser().parse_args(argv)
    if getattr(args, "handler", None) is None:
        from app.ui.application import run_desktop

        return run_desktop(args.data_dir, lang=args.lang)
    return run_command(args)
