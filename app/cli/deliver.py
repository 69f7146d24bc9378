"""Command line for delivery (app/services/deliver.py): the PDF face and the XML of accepted invoices written
into the delivery folder, which must reach the buyer within 48 hours of the upload.

    python -m app deliver                      deliver what is pending into the folder set
    python -m app deliver --folder DIR         ... into DIR instead (the setting is left as it is)
    python -m app deliver NUMBER...            deliver (again) the invoices named
    python -m app deliver --set-folder DIR     choose the folder (the desk then delivers by itself)
    python -m app deliver --set-folder ""      stop delivering by itself
    python -m app deliver --pending [--hours N]  list what is not delivered yet (accepted N hours ago or more)

Exit status: 0 done, 2 bad input, 1 some invoice could not be written (it stays pending).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli.common import EXIT_ERROR, EXIT_OK, BadInput, Subcommands, open_store_of, print_json


def cmd_deliver(args: argparse.Namespace) -> int:
    from app.core.clock import now
    from app.services import deliver

    open_store_of(args)
    if args.set_folder is not None:
        chosen = deliver.set_deliver_folder(args.set_folder, clerk=args.clerk)
        print(f"交付文件夹 delivery folder: {chosen if chosen is not None else '（未设置 none）'}")
        if not args.pending and not args.numbers and args.folder is None:
            return EXIT_OK
    if args.pending:
        if args.hours < 0:
            raise BadInput("hours（小时）：不能为负数", "hours: cannot be negative")
        at = now()
        pending = deliver.pending_deliveries(older_than_hours=args.hours, at=at)
        if args.json:
            print_json([{"number": p.number, "provisional_number": p.provisional_number,
                         "accepted_at": p.accepted_at.isoformat(), "hours_left": round(p.hours_left(at), 1)}
                        for p in pending])
        else:
            for p in pending:
                left = p.hours_left(at)
                when = f"剩余 {left:.1f} 小时 ({left:.1f} h left)" if left > 0 else \
                    f"已超期 {-left:.1f} 小时 ({-left:.1f} h overdue)"
                print(f"{p.number}\t{p.accepted_at.isoformat()}\t{when}")
            print(f"未交付 not delivered: {len(pending)}")
        return EXIT_OK
    if args.numbers:
        result = deliver.deliver_numbers(args.numbers, folder=args.folder, clerk=args.clerk)
    else:
        if args.folder is None and deliver.deliver_folder() is None:
            raise BadInput("deliver.folder（交付文件夹）：尚未设置交付文件夹，请用 --folder DIR 或 --set-folder DIR",
                           "deliver.folder (delivery folder): none set; give --folder DIR or --set-folder DIR")
        result = deliver.deliver_pending(args.limit, folder=args.folder, clerk=args.clerk)
    assert result.folder is not None
    for number in result.delivered:
        print(result.folder / f"{number}.pdf")
        print(result.folder / f"{number}.xml")
    for number, why in result.refused:
        print(f"未交付 not delivered {number}: {why}")
    for number, error in result.failed:
        print(f"交付失败 delivery failed {number}: {error}")
    if result.remaining:
        print(f"仍待交付 still pending: {result.remaining}")
    return EXIT_ERROR if result.failed else EXIT_OK


def register(commands: Subcommands) -> None:
    """The parser of this group, with its handler."""
    parser = commands.add_parser("deliver", help="deliver the PDF and XML of accepted invoices to the delivery folder")
    parser.set_defaults(handler=cmd_deliver)
    parser.add_argument("numbers", nargs="*", metavar="NUMBER", help="invoices to deliver (default: all pending)")
    parser.add_argument("--folder", type=Path, default=None, metavar="DIR",
                        help="deliver into DIR this time (default: the folder set)")
    parser.add_argument("--set-folder", default=None, metavar="DIR",
                        help="choose the delivery folder (\"\" clears it)")
    parser.add_argument("--pending", action="store_true", help="list the accepted invoices not delivered yet")
    parser.add_argument("--hours", type=float, default=0.0, metavar="N",
                        help="with --pending: only those accepted N hours ago or more")
    parser.add_argument("--limit", type=int, default=1000, metavar="N", help="deliver at most N invoices")
    parser.add_argument("--json", action="store_true", help="with --pending: as JSON")
    parser.add_argument("--clerk", default="deliver", help="who delivers (recorded in the history)")
