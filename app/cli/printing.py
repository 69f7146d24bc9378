"""Command line for printing: print (stored invoices into one PDF), printer set/show
(paper and overlay offset per printer) and printer calibration (the calibration page).
app/cli/__init__.py registers these parsers, each with its handler.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import BinaryIO

from app.cli.common import EXIT_OK, BadInput, Subcommands, open_store_of, print_json


def cmd_print(args: argparse.Namespace) -> int:
    from app.services.printing import options_for, print_to_pdf

    out = Path(args.output)
    if not out.parent.is_dir():
        raise BadInput(f"output（输出文件）：文件夹 {out.parent} 不存在", f"output: no such folder {out.parent}")
    open_store_of(args)
    options = options_for(args.printer, overlay=args.overlay, paper=args.paper)
    views = print_to_pdf(args.numbers, out, options, clerk=args.clerk or "")  # UnknownInvoices: exit 2
    copies = sum(1 for v in views if v.copy)
    records = sum(1 for v in views if v.pre_issue)
    counted = [f"{len(views) - records} 张发票"] if len(views) > records else []
    if records:
        counted.append(f"{records} 张预开单（非发票）")
    print(f"{out}: {'，'.join(counted)}" + (f"（其中 {copies} 张为副本）" if copies else "")
          + (f" / {records} pre-issue record(s), not invoices" if records else ""))
    return EXIT_OK


def cmd_printer_set(args: argparse.Namespace) -> int:
    from app.services.printer_profiles import get_profile, save_profile

    open_store_of(args)
    current = get_profile(args.printer)
    profile = save_profile(args.printer, paper=args.paper or current.paper,
                           offset_x_mm=args.offset_x if args.offset_x is not None else current.offset_x_mm,
                           offset_y_mm=args.offset_y if args.offset_y is not None else current.offset_y_mm)
    print(f"{profile.printer or '(默认)'}: {profile.paper} "
          f"X {profile.offset_x_mm:+.1f} mm Y {profile.offset_y_mm:+.1f} mm")
    return EXIT_OK


def cmd_printer_show(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from app.services.printer_profiles import list_profiles

    open_store_of(args)
    print_json([asdict(p) for p in list_profiles()])
    return EXIT_OK


def cmd_printer_calibration(args: argparse.Namespace) -> int:
    from app.printing.document import render_calibration
    from app.services.printer_profiles import get_profile
    from app.services.printing import write_pdf_atomically

    open_store_of(args)
    profile = get_profile(args.printer)
    data = render_calibration(args.paper or profile.paper, profile.offset_x_mm, profile.offset_y_mm, args.printer)

    def write(out: BinaryIO) -> None:
        out.write(data)

    write_pdf_atomically(Path(args.output), write)
    print(args.output)
    return EXIT_OK



def register(commands: Subcommands) -> None:
    """The parsers of this group, each with its handler."""
    printing = commands.add_parser("print", help="print stored invoices into one PDF")
    printing.set_defaults(handler=cmd_print)
    printing.add_argument("numbers", nargs="+", metavar="NUMBER", help="provisional (LX-…) or official numbers")
    printing.add_argument("-o", "--output", required=True, metavar="OUT.pdf")
    printing.add_argument("--overlay", action="store_true", help="data only, onto pre-printed invoice paper (套打)")
    printing.add_argument("--paper", choices=("invoice", "a4"), default=None,
                          help="invoice (240 × 140 mm) or a4 (default: the printer profile's)")
    printing.add_argument("--printer", default="", help="printer profile for paper and overlay offset")
    printing.add_argument("--clerk", default=None, help="who prints (default: the drawer)")

    printer = commands.add_parser("printer", help="printer profiles: paper and overlay offset")
    actions = printer.add_subparsers(dest="subcommand", metavar="ACTION", required=True)
    setting = actions.add_parser("set", help="set a printer's paper and offset")
    setting.set_defaults(handler=cmd_printer_set)
    setting.add_argument("printer", nargs="?", default="", help="printer name (empty: the default profile)")
    setting.add_argument("--paper", choices=("invoice", "a4"), default=None)
    setting.add_argument("--offset-x", default=None, metavar="MM", help="moves the overlay right (negative: left)")
    setting.add_argument("--offset-y", default=None, metavar="MM", help="moves the overlay down (negative: up)")
    actions.add_parser("show", help="the printer profiles as JSON").set_defaults(handler=cmd_printer_show)
    calibration = actions.add_parser("calibration", help="write the calibration page for a printer")
    calibration.set_defaults(handler=cmd_printer_calibration)
    calibration.add_argument("printer", nargs="?", default="")
    calibration.add_argument("-o", "--output", required=True, metavar="OUT.pdf")
    calibration.add_argument("--paper", choices=("invoice", "a4"), default=None)

