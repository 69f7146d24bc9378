"""Command line for the item catalog (项目信息): items list, add, edit, retire, restore, delete, import, export."""

from __future__ import annotations

import argparse
from typing import Any

from app.cli.common import EXIT_OK, Subcommands, open_store_of, print_json
from app.core.money import format_plain
from app.core.tax import find_rate
from app.services import items
from app.store.catalog_queries import ItemEntry, list_items

# Options of add and edit, and the item field each one sets.
OPTIONS = (("name", "item_name"), ("code", "tax_code"), ("spec", "spec"), ("unit", "unit"), ("price", "unit_price"),
           ("rate", "tax_rate"), ("policy", "policy"))


def _fields(args: argparse.Namespace) -> dict[str, Any]:
    """The fields given on the command line (an option left out is not in them)."""
    fields: dict[str, Any] = {key: getattr(args, option) for option, key in OPTIONS
                              if getattr(args, option) is not None}
    if args.price_includes_tax is not None:
        fields["price_includes_tax"] = args.price_includes_tax
    return fields


def item_json(entry: ItemEntry) -> dict[str, Any]:
    return {"id": entry.id, "item_name": entry.item_name, "tax_code": entry.tax_code, "short_name": entry.short_name,
            "printed_name": entry.printed_name, "spec": entry.spec, "unit": entry.unit,
            "unit_price": format_plain(entry.unit_price) if entry.unit_price is not None else None,
            "price_includes_tax": entry.price_includes_tax, "tax_rate": entry.tax_rate, "policy": entry.policy,
            "retired": entry.retired, "code_usable": entry.code_usable, "use_count": entry.use_count}


def _line(entry: ItemEntry) -> str:
    rate = find_rate(entry.tax_rate)
    flags = [label for on, label in ((entry.retired, "已停用 retired"),
                                     (not entry.code_usable, "编码已停用 code withdrawn")) if on]
    price = format_plain(entry.unit_price) if entry.unit_price is not None else "-"
    return "\t".join([str(entry.id), entry.printed_name or entry.item_name, entry.tax_code, entry.spec or "-",
                      entry.unit or "-", price + ("（含税）" if entry.price_includes_tax and entry.unit_price else ""),
                      rate.label_zh if rate else entry.tax_rate, entry.policy or "-", *flags])


def cmd_list(args: argparse.Namespace) -> int:
    open_store_of(args)
    entries = list_items(include_retired=args.all)
    if args.json:
        print_json([item_json(e) for e in entries])
        return EXIT_OK
    for entry in entries:
        print(_line(entry))
    return EXIT_OK


def cmd_add(args: argparse.Namespace) -> int:
    open_store_of(args)
    print(_line(items.create_item(_fields(args), clerk=args.clerk or "")))
    return EXIT_OK


def cmd_edit(args: argparse.Namespace) -> int:
    open_store_of(args)
    print(_line(items.edit_item(args.id, _fields(args), clerk=args.clerk or "")))
    return EXIT_OK


def cmd_retire(args: argparse.Namespace) -> int:
    open_store_of(args)
    print(_line(items.retire_item(args.id, clerk=args.clerk or "")))
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    open_store_of(args)
    print(_line(items.restore_item(args.id, clerk=args.clerk or "")))
    return EXIT_OK


def cmd_delete(args: argparse.Namespace) -> int:
    open_store_of(args)
    items.delete_item(args.id, clerk=args.clerk or "")
    print(f"已删除项目 {args.id} (item {args.id} deleted)")
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from app.services import catalog_files  # openpyxl loads in 0.1 s: only the commands that read files pay it

    open_store_of(args)
    result = catalog_files.import_items(args.file, clerk=args.clerk or "")
    print(f"导入{result.rows}个项目：新增{result.created}，更新{result.updated} "
          f"({result.rows} items imported: {result.created} new, {result.updated} updated)")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from app.services import catalog_files  # openpyxl loads in 0.1 s: only the commands that read files pay it

    open_store_of(args)
    count = catalog_files.export_items(args.file, include_retired=args.all)
    print(f"导出{count}个项目到 {args.file} ({count} items exported)")
    return EXIT_OK


def _item_options(parser: argparse.ArgumentParser, adding: bool) -> None:
    parser.add_argument("--name", required=adding, help="项目名称, without *简称* (the desk adds it from the code)")
    parser.add_argument("--code", required=adding, help="税收分类编码, 19 digits")
    parser.add_argument("--spec", help="规格型号")
    parser.add_argument("--unit", help="单位")
    parser.add_argument("--price", help="单价 (leave out for none)")
    if adding:
        parser.add_argument("--price-includes-tax", action="store_true", default=None, help="单价含税")
    else:
        parser.add_argument("--price-includes-tax", action=argparse.BooleanOptionalAction, default=None,
                            help="单价含税 (or --no-price-includes-tax)")
    parser.add_argument("--rate", help="税率/征收率: 13%%, 0.06, 免税 (default: the code's only rate)")
    parser.add_argument("--policy", help="优惠政策标识, 01..18")
    parser.add_argument("--clerk", default=None)


def register(commands: Subcommands) -> None:
    """The parsers of this group, each with its handler."""
    group = commands.add_parser("items", help="the item catalog (项目信息)")
    actions = group.add_subparsers(dest="subcommand", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="list the items")
    listing.set_defaults(handler=cmd_list)
    listing.add_argument("--all", action="store_true", help="retired items too")
    listing.add_argument("--json", action="store_true")
    adding = actions.add_parser("add", help="add an item")
    adding.set_defaults(handler=cmd_add)
    _item_options(adding, adding=True)
    editing = actions.add_parser("edit", help="change an item (options left out stay)")
    editing.set_defaults(handler=cmd_edit)
    editing.add_argument("id", type=int)
    _item_options(editing, adding=False)
    for name, handler, text in (("retire", cmd_retire, "retire an item (kept for the invoices that used it)"),
                                ("restore", cmd_restore, "bring a retired item back"),
                                ("delete", cmd_delete, "delete an item no invoice used")):
        action = actions.add_parser(name, help=text)
        action.set_defaults(handler=handler)
        action.add_argument("id", type=int)
        action.add_argument("--clerk", default=None)
    importing = actions.add_parser("import", help="items from an .xlsx or .csv file (all or none)")
    importing.set_defaults(handler=cmd_import)
    importing.add_argument("file")
    importing.add_argument("--clerk", default=None)
    exporting = actions.add_parser("export", help="the items to an .xlsx or .csv file")
    exporting.set_defaults(handler=cmd_export)
    exporting.add_argument("file")
    exporting.add_argument("--all", action="store_true", help="retired items too")
