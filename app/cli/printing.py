"""Command line for printing: print (stored invoices into one PDF; --overlay: paper 数电 invoices onto the
pre-printed forms in the printer, each taking its sheet), printer set/show (paper, the forms' offset and x/y
scale per printer) and printer calibration (the calibration page, printed with the offset and the scale).
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
    if args.overlay:
        return _print_onto_forms(args, out)
    options = options_for(args.printer, paper=args.paper)
    views = print_to_pdf(args.numbers, out, options, clerk=args.clerk or "")  # UnknownInvoices: exit 2
    copies = sum(1 for v in views if v.copy)
    records = sum(1 for v in views if v.pre_issue)
    counted = [f"{len(views) - records} 张发票"] if len(views) > records else []
    if records:
        counted.append(f"{records} 张预开单（非发票）")
    print(f"{out}: {'，'.join(counted)}" + (f"（其中 {copies} 张为副本）" if copies else "")
          + (f" / {records} pre-issue record(s), not invoices" if records else ""))
    return EXIT_OK


def _print_onto_forms(args: argparse.Namespace, out: Path) -> int:
    """Paper invoices onto the forms: each takes its sheet (a reprint the one it holds), recorded with the print."""
    from app.services.paper_printing import print_paper_to_pdf

    if args.paper is not None:
        raise BadInput("paper（纸张）：套打打印在纸质发票上（210×140 毫米），不能另选纸张",
                       "paper: --overlay prints onto the paper forms (210 × 140 mm); no other paper can be chosen")
    # UnknownInvoices, NotOnPaperForm (electronic, pre-issue, > 8 lines), NotAPaperInvoice, NoPaperForm: exit 2
    job = print_paper_to_pdf(out, args.numbers, printer=args.printer, clerk=args.clerk or "")
    for item in job.prints:
        mark = "（副本，原纸）" if item.view.copy else ""
        mark_en = " (copy, same sheet)" if item.view.copy else ""
        print(f"{item.view.official_number}：纸质发票 代码 {item.sheet.code} 号码 {item.sheet.number}{mark} / "
              f"paper form code {item.sheet.code} number {item.sheet.number}{mark_en}")
    print(f"{out}: {len(job.prints)} 张纸质发票" + (f"（其中 {job.copies} 张为副本）" if job.copies else "")
          + f" / {len(job.prints)} paper invoice(s) onto forms")
    return EXIT_OK


def cmd_printer_set(args: argparse.Namespace) -> int:
    from app.services.printer_profiles import get_profile, save_profile

    open_store_of(args)
    current = get_profile(args.printer)
    profile = save_profile(args.printer, paper=args.paper or current.paper,
                           offset_x_mm=args.offset_x if args.offset_x is not None else current.offset_x_mm,
                           offset_y_mm=args.offset_y if args.offset_y is not None else current.offset_y_mm,
                           scale_x=args.scale_x, scale_y=args.scale_y)  # None keeps the stored scale
    print(f"{profile.printer or '(默认)'}: {profile.paper} "
          f"X {profile.offset_x_mm:+.1f} mm Y {profile.offset_y_mm:+.1f} mm "
          f"比例 (scale) X {profile.scale_x:.4f} Y {profile.scale_y:.4f}")
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
    data = render_calibration(args.paper or profile.paper, profile.offset_x_mm, profile.offset_y_mm, args.printer,
                              profile.scale_x, profile.scale_y)

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
    printing.add_argument("--overlay", action="store_true",
                          help="paper 数电 invoices (medium paper) onto the tax bureau's pre-printed forms loaded "
                               "with `paper load` (套打): each takes its sheet, a reprint the one it holds")
    printing.add_argument("--paper", choices=("invoice", "a4"), default=None,
                          help="invoice (the face's size: 210 wide, 140 or taller) or a4 (default: the printer "
                               "profile's); not with --overlay")
    printing.add_argument("--printer", default="", help="printer profile: paper, and the forms' offset and scale")
    printing.add_argument("--clerk", default=None, help="who prints (default: the drawer)")

    printer = commands.add_parser("printer", help="printer profiles: paper, the forms' offset and scale")
    actions = printer.add_subparsers(dest="subcommand", metavar="ACTION", required=True)
    setting = actions.add_parser("set", help="set a printer's paper, offset and scale")
    setting.set_defaults(handler=cmd_printer_set)
    setting.add_argument("printer", nargs="?", default="", help="printer name (empty: the default profile)")
    setting.add_argument("--paper", choices=("invoice", "a4"), default=None)
    setting.add_argument("--offset-x", default=None, metavar="MM", help="moves the overlay right (negative: left)")
    setting.add_argument("--offset-y", default=None, metavar="MM", help="moves the overlay down (negative: up)")
    setting.add_argument("--scale-x", default=None, metavar="RATIO",
                         help="stretches the print across, 0.95 to 1.05 (default: the one stored, 1 at first)")
    setting.add_argument("--scale-y", default=None, metavar="RATIO", help="stretches the print down, 0.95 to 1.05")
    actions.add_parser("show", help="the printer profiles as JSON").set_defaults(handler=cmd_printer_show)
    calibration = actions.add_parser("calibration", help="write the calibration page for a printer")
    calibration.set_defaults(handler=cmd_printer_calibration)
    calibration.add_argument("printer", nargs="?", default="")
    calibration.add_argument("-o", "--output", required=True, metavar="OUT.pdf")
    calibration.add_argument("--paper", choices=("invoice", "a4"), default=None)

