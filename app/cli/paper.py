"""Command line for the pre-printed paper forms of paper 数电 invoices (medium paper, platform channel).
app/cli/__init__.py registers these parsers, each with its handler.

    paper load --code C --first N --count K [--kind normal|special] [--clerk NAME]
    paper show [--json] [--all]
    paper spoil NUMBER --reason R [--code C] [--clerk NAME]
"""

from __future__ import annotations

import argparse

from app.cli.common import EXIT_OK, Subcommands, open_store_of, print_json


def _kind_name(kind: str) -> str:
    from app.services.paper_stock import KIND_NAMES

    return KIND_NAMES.get(kind, kind)


def cmd_paper_load(args: argparse.Namespace) -> int:
    from app.services.paper_stock import load_pack

    open_store_of(args)
    pack = load_pack(args.code, args.first, args.count, kind=args.kind, clerk=args.clerk)
    print(f"已装入纸质发票 (pack loaded)：{_kind_name(pack.kind)}，代码 (code) {pack.code}，号码 (numbers) "
          f"{pack.first}–{pack.last}，共 {pack.count} 张 (sheets)")
    return EXIT_OK


def cmd_paper_show(args: argparse.Namespace) -> int:
    from app.services.paper_stock import KIND_NAMES, packs, sheet_in_printer

    open_store_of(args)
    shown = packs(with_empty=args.all)
    next_sheets = {kind: sheet_in_printer(kind) for kind in KIND_NAMES}
    if args.json:
        print_json({"next": {kind: ({"code": s.code, "number": s.number} if s else None)
                             for kind, s in next_sheets.items()},
                    "packs": [{"id": p.id, "kind": p.kind, "code": p.code, "first": p.first, "last": p.last,
                               "count": p.count, "used": p.used, "spoiled": p.spoiled, "left": p.left,
                               "next": p.next_number, "loaded_at": p.loaded_at} for p in shown]})
        return EXIT_OK
    for kind, sheet in next_sheets.items():
        where = f"代码 (code) {sheet.code} 号码 (number) {sheet.number}" if sheet else "无，请装入 (none: paper load)"
        print(f"打印机中下一张{_kind_name(kind)} (next sheet)：{where}")
    if not shown:
        print("没有装入的纸质发票 (no pack loaded)")
    for p in shown:
        print(f"  {_kind_name(p.kind)} 代码 {p.code} 号码 {p.first}–{p.last}：共 {p.count} 张，剩余 {p.left} 张，"
              f"作废 {p.spoiled} 张 ({p.count} sheets, {p.left} left, {p.spoiled} spoiled)")
    return EXIT_OK


def cmd_paper_spoil(args: argparse.Namespace) -> int:
    from app.services.paper_stock import spoil_sheet

    open_store_of(args)
    sheet = spoil_sheet(args.number, reason=args.reason, code=args.code, clerk=args.clerk)
    held = f"，原打印发票 {sheet.invoice_number} 需重新打印 (its invoice {sheet.invoice_number} needs a new sheet)" \
        if sheet.invoice_number else ""
    print(f"已作废纸质发票 (sheet spoiled)：代码 {sheet.code} 号码 {sheet.number}{held}")
    return EXIT_OK


def register(commands: Subcommands) -> None:
    paper = commands.add_parser("paper", help="pre-printed paper forms in the printer: load, show, spoil")
    actions = paper.add_subparsers(dest="paper_command", metavar="ACTION", required=True)
    load = actions.add_parser("load", help="record a pack of pre-printed forms loaded into the printer")
    load.set_defaults(handler=cmd_paper_load)
    load.add_argument("--code", required=True, help="the form's own code, 10 or 12 digits (发票代码)")
    load.add_argument("--first", required=True, help="the 8-digit number of the pack's first sheet (起始号码)")
    load.add_argument("--count", required=True, help="how many sheets (张数)")
    load.add_argument("--kind", default="normal", help="normal (普票) or special (专票) forms; default normal")
    load.add_argument("--clerk", default="")
    show = actions.add_parser("show", help="the next sheet in the printer and the packs loaded")
    show.set_defaults(handler=cmd_paper_show)
    show.add_argument("--json", action="store_true")
    show.add_argument("--all", action="store_true", help="packs used up too")
    spoil = actions.add_parser("spoil", help="void a spoiled sheet (jammed, misprinted)")
    spoil.set_defaults(handler=cmd_paper_spoil)
    spoil.add_argument("number", help="the sheet's 8-digit number")
    spoil.add_argument("--reason", required=True)
    spoil.add_argument("--code", default=None, help="the form's code, when the number is under several codes")
    spoil.add_argument("--clerk", default="")
