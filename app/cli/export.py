"""Command line for export: the 数电 XML (shudian-rules.md section 8) and the PDF face of stored
invoices, each file named by the official number. app/cli/__init__.py registers the parser.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli.common import EXIT_OK, BadInput, Subcommands, open_store_of


def cmd_export(args: argparse.Namespace) -> int:
    from app.services.export import export_invoices

    if args.xml is None and args.pdf is None:
        raise BadInput("xml/pdf（输出文件夹）：请至少指定 --xml 或 --pdf 之一",
                       "xml/pdf: give --xml DIR, --pdf DIR or both")
    open_store_of(args)
    written = export_invoices(args.numbers, xml_dir=args.xml, pdf_dir=args.pdf, clerk=args.clerk or "")
    for exported in written:
        print(exported.path)
    return EXIT_OK


def register(commands: Subcommands) -> None:
    """The parser of this group, with its handler."""
    export = commands.add_parser("export", help="write the 数电 XML and/or the PDF of accepted invoices")
    export.set_defaults(handler=cmd_export)
    export.add_argument("numbers", nargs="+", metavar="NUMBER", help="provisional (LX-…) or official numbers")
    export.add_argument("--xml", type=Path, default=None, metavar="DIR", help="folder for <official number>.xml")
    export.add_argument("--pdf", type=Path, default=None, metavar="DIR", help="folder for <official number>.pdf")
    export.add_argument("--clerk", default=None, help="who prints the PDF (default: the drawer)")
