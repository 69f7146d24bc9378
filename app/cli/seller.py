"""Command line for the seller profile: seller set, seller show."""

from __future__ import annotations

import argparse

from app.cli.common import EXIT_OK, BadInput, Subcommands, open_store_of, print_json
from app.core.codec import party_to_body
from app.services.seller import get_seller, set_seller


def cmd_seller_set(args: argparse.Namespace) -> int:
    open_store_of(args)
    current = get_seller()

    def keep(value: str | None, attr: str) -> str:
        """An option not given keeps what the profile has."""
        if value is not None:
            return value
        if current is None:
            return ""
        source = current.party if hasattr(current.party, attr) else current
        return str(getattr(source, attr))

    settings = set_seller(
        name=args.name, tax_id=args.tax_id, drawer=keep(args.drawer, "drawer"),
        address=keep(args.address, "address"), phone=keep(args.phone, "phone"), bank=keep(args.bank, "bank"),
        account=keep(args.account, "account"), payee=keep(args.payee, "payee"),
        reviewer=keep(args.reviewer, "reviewer"), confirm_tax_id=args.confirm_tax_id,
        taxpayer_type=args.taxpayer_type or (current.taxpayer_type if current else "general"),
    )
    print(f"{settings.party.name} {settings.party.tax_id}")
    return EXIT_OK


def cmd_seller_show(args: argparse.Namespace) -> int:
    open_store_of(args)
    settings = get_seller()
    if settings is None:
        raise BadInput("seller（销售方）：销售方信息未设置（请用 `seller set`）",
                       "seller: no seller profile yet; use `seller set`")
    print_json({**party_to_body(settings.party), "drawer": settings.drawer, "payee": settings.payee,
                "reviewer": settings.reviewer, "taxpayer_type": settings.taxpayer_type})
    return EXIT_OK


def register(commands: Subcommands) -> None:
    """The parsers of this group, each with its handler."""
    seller = commands.add_parser("seller", help="the seller profile (销售方)")
    actions = seller.add_subparsers(dest="subcommand", metavar="ACTION", required=True)
    setting = actions.add_parser("set", help="set the seller profile")
    setting.set_defaults(handler=cmd_seller_set)
    setting.add_argument("--name", required=True)
    setting.add_argument("--tax-id", required=True)
    for option in ("--address", "--phone", "--bank", "--account", "--drawer", "--payee", "--reviewer"):
        setting.add_argument(option, default=None)
    setting.add_argument("--taxpayer-type", choices=("general", "small"), default=None,
                         help="一般纳税人 general (rates by the tax code) or 小规模纳税人 small (3 %% / 1 %% / 5 %%)")
    setting.add_argument("--confirm-tax-id", action="store_true",
                         help="accept an id whose check character fails (recorded in the audit log)")
    actions.add_parser("show", help="print the seller profile as JSON").set_defaults(handler=cmd_seller_show)
