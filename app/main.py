"""The program's entry point (`python -m app`, the `fapiao-desk` script, the bundle): a command
of the command line, or with none the desktop app. It sits above both, so neither imports the other."""

from __future__ import annotations

from app.cli import build_parser, run_command


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "handler", None) is None:
        from app.ui.application import run_desktop  # Qt is loaded only for the window

        return run_desktop(args.data_dir, lang=args.lang)
    return run_command(args)
