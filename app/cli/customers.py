"""Command line for the customer book (客户信息): customers list, add, edit, merge, import, export."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from app.cli.common import EXIT_OK, Subcommands, open_store_of, print_json
from app.services import customers
from app.store.catalog_queries import CustomerEntry, list_customers

# Options of add and edit, and the customer field each one sets.
TEXT_OPTIONS = ("name", "tax_id", "id_type", "id_number", "address", "phone", "bank", "account", "email")


def _fields(args: argparse.Namespace) -> dict[str, Any]:
    """The fields given on the command line (an option left out is not in them)."""
    fields: dict[str, Any] = {key: getattr(args, key) for key in TEXT_OPTIONS if getattr(args, key) is not None}
    if args.natural_person is not None:
        fields["natural_person"] = args.natural_person
    if args.confirm_tax_id:
        fields["tax_id_confirmed"] = True
    return fields


def _line(entry: CustomerEntry) -> str:
    flags = [label for on, label in ((entry.natural_person, "自然人 natural person"),
                                     (entry.tax_id_confirmed, "税号已确认 tax id confirmed")) if on]
    return "\t".join([str(entry.id), entry.name, entry.tax_id or "-", entry.address or "-", entry.phone or "-",
                      str(entry.use_count), *flags])


def cmd_list(args: argparse.Namespace) -> int:
    open_store_of(args)
    entries = list_customers()
    if args.json:
        print_json([dataclasses.asdict(e) for e in entries])
        return EXIT_OK
    for entry in entries:
        print(_line(entry))
    return EXIT_OK


def cmd_add(args: argparse.Namespace) -> int:
    open_store_of(args)
    print(_line(customers.create_customer(_fields(args), clerk=args.clerk or "")))
    return EXIT_OK


def cmd_edit(args: argparse.Namespace) -> int:
    open_store_of(args)
    print(_line(customers.edit_customer(args.id, _fields(args), clerk=args.clerk or "")))
    return EXIT_OK


def cmd_merge(args: argparse.Namespace) -> int:
    open_store_of(args)
    kept = customers.merge_customers(args.keep, args.ids, clerk=args.clerk or "")
    print(_line(kept))
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from app.services import catalog_files  # openpyxl loads in 0.1 s: only the commands that read files pay it

    open_store_of(args)
    result = catalog_files.import_customers(args.file, clerk=args.clerk or "")
    print(f"导入{result.rows}个客户：新增{result.created}，更新{result.updated} "
          f"({result.rows} customers imported: {result.created} new, {result.updated} updated)")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from app.services import catalog_files  # openpyxl loads in 0.1 s: only the commands that read files pay it

    open_store_of(args)
    count = catalog_files.export_customers(args.file)
    print(f"导出{count}个客户到 {args.file} ({count} customers exported)")
    return EXIT_OK


def _customer_options(parser: argparse.ArgumentParser, adding: bool) -> None:
    parser.add_argument("--name", required=adding, help="名称 (a natural person: the full name)")
    parser.add_argument("--tax-id", help="纳税人识别号")
    parser.add_argument("--confirm-tax-id", action="store_true",
                        help="the tax id fails its check character but is real (remembered)")
    if adding:
        parser.add_argument("--natural-person", action="store_true", default=None, help="自然人")
    else:
        parser.add_argument("--natural-person", action=argparse.BooleanOptionalAction, default=None,
                            help="自然人 (or --no-natural-person)")
    parser.add_argument("--id-type", help="证件类型代码, e.g. 201 居民身份证")
    parser.add_argument("--id-number", help="证件号码")
    for option in ("--address", "--phone", "--bank", "--account", "--email"):
        parser.add_argument(option)
    parser.add_argument("--clerk", default=None)


def register(commands: Subcommands) -> None:
    """The parsers of this group, each with its handler."""
    group = commands.add_parser("customers", help="the customer book (客户信息)")
    actions = group.add_subparsers(dest="subcommand", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="list the customers")
    listing.set_defaults(handler=cmd_list)
    listing.add_argument("--json", action="store_true")
    adding = actions.add_parser("add", help="add a customer")
    adding.set_defaults(handler=cmd_add)
    _customer_options(adding, adding=True)
    editing = actions.add_parser("edit", help="change a customer (options left out stay)")
    editing.set_defaults(handler=cmd_edit)
    editing.add_argument("id", type=int)
    _customer_options(editing, adding=False)
    merging = actions.add_parser("merge", help="merge customers into the one kept: merge KEEP ID [ID ...]")
    merging.set_defaults(handler=cmd_merge)
    merging.add_argument("keep", type=int)
    merging.add_argument("ids", type=int, nargs="+")
    merging.add_argument("--clerk", default=None)
    importing = actions.add_parser("import", help="customers from an .xlsx or .csv file (all or none)")
    importing.set_defaults(handler=cmd_import)
    importing.add_argument("file")
    importing.add_argument("--clerk", default=None)
    exporting = actions.add_parser("export", help="the customers to an .xlsx or .csv file")
    exporting.set_defaults(handler=cmd_export)
    exporting.add_argument("file")
