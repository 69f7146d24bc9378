"""Command line for the channel and the direct channel's stock: channel, stock.
app/cli/__init__.py registers these parsers, each with its handler.

    channel show | channel set direct|platform [--clerk NAME]
    stock show [--json] | stock refill [--clerk NAME] [--json]      refill: exit 0 done, 3 something still waits
    stock settings [--block-size N] [--numbers-floor N] [--quota-slice A] [--quota-floor A]
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.cli.common import EXIT_OK, Subcommands, add_token_options, open_store_of, print_json

EXIT_WAITING = 3  # as sync: a request is still without an answer, or the platform refused one


def _channel_name(channel: str) -> str:
    return {"direct": "直连 (direct)", "platform": "平台开具 (platform)"}.get(channel, channel)


def cmd_channel_show(args: argparse.Namespace) -> int:
    from app.services.channel import get_channel

    open_store_of(args)
    print(f"开票渠道 (channel)：{_channel_name(get_channel())}")
    return EXIT_OK


def cmd_channel_set(args: argparse.Namespace) -> int:
    from app.services.channel import set_channel

    open_store_of(args)
    chosen = set_channel(args.value, clerk=args.clerk)
    print(f"开票渠道已设为 (channel set to)：{_channel_name(chosen)}")
    return EXIT_OK


def _view_json(view: Any) -> dict[str, Any]:
    return {"at": view.at.isoformat(), "year": view.year, "numbers_left": view.numbers_left,
            "next_number": view.next_number, "current_block_count": view.current_block_count,
            "year_end": view.year_end.isoformat(), "blocks_held": view.blocks_held,
            "blocks_retired": view.blocks_retired, "numbers_lost": view.numbers_lost, "period": view.period,
            "quota_held": f"{view.quota_held:f}", "quota_drawn": f"{view.quota_drawn:f}",
            "quota_left": f"{view.quota_left:f}",
            "quota_valid_to": view.quota_valid_to.isoformat() if view.quota_valid_to else None,
            "numbers_waiting": list(view.numbers_waiting), "quota_waiting": list(view.quota_waiting)}


def _print_view(view: Any) -> None:
    print(f"号码 (numbers)：{view.year}年剩余 {view.numbers_left} 个 (left)，下一个 (next)：{view.next_number or '—'}，"
          f"年末作废于 (lost from) {view.year_end.isoformat()}")
    print(f"已作废号码段 (blocks retired)：{view.blocks_retired} 段，未用 {view.numbers_lost} 个 (unused, lost)")
    valid = view.quota_valid_to.isoformat() if view.quota_valid_to else "—"
    print(f"额度 (quota)：{view.period} 可用 {view.quota_left:f} 元 (left)，已下载未退回 {view.quota_held:f} 元 "
          f"(downloaded, not returned)，已开具占用 {view.quota_drawn:f} 元 (drawn by invoices)，"
          f"有效至 (valid to) {valid}")
    waiting = [*view.numbers_waiting, *view.quota_waiting]
    if waiting:
        print(f"等待平台应答的请求 (requests still waiting)：{', '.join(waiting)}")


def cmd_stock_show(args: argparse.Namespace) -> int:
    from app.services.channel import get_channel
    from app.services.stock import stock_view

    open_store_of(args)
    view = stock_view()
    if args.json:
        print_json({"channel": get_channel(), **_view_json(view)})
        return EXIT_OK
    print(f"开票渠道 (channel)：{_channel_name(get_channel())}")
    _print_view(view)
    return EXIT_OK


def cmd_stock_refill(args: argparse.Namespace) -> int:
    from app.services.settings import make_client
    from app.services.stock import top_up

    open_store_of(args)
    client = make_client(args.url, args.token, timeout=args.timeout)
    try:
        result = top_up(client, clerk=args.clerk)
    finally:
        client.close()
    if not result.done:
        print(f"当前为{_channel_name(result.channel)}渠道，无需领用号码和额度 "
              "(the platform channel issues by the platform: no stock to refill; `channel set direct` first)")
        return EXIT_OK
    if args.json:
        print_json({"retired": [{"request_id": r.request_id, "year": r.year, "lost": r.lost} for r in result.retired],
                    "drawn": [{"request_id": d.request_id, "first": d.first, "last": d.last, "count": d.count,
                               "year": d.year, "asked_again": d.asked_again} for d in result.drawn],
                    "downloaded": [{"request_id": d.request_id, "amount": f"{d.amount:f}",
                                    "valid_from": d.valid_from.isoformat(), "valid_to": d.valid_to.isoformat(),
                                    "asked_again": d.asked_again} for d in result.downloaded],
                    "refused": [{"what": r.what, "request_id": r.request_id, "reason": r.reason}
                                for r in result.refused],
                    "waiting": list(result.waiting), "error": result.error,
                    "view": _view_json(result.view) if result.view else None})
    else:
        for r in result.retired:
            print(f"已作废 {r.year} 年号码段 {r.first}..{r.last}，未用 {r.lost} 个 (retired, {r.lost} unused lost)")
        for d in result.drawn:
            print(f"已领用号码 {d.first}..{d.last}（{d.count} 个）(numbers drawn)")
        for s in result.downloaded:
            print(f"已下载额度 {s.amount:f} 元，有效期 {s.valid_from}..{s.valid_to} (quota downloaded)")
        for f in result.refused:
            what = "号码" if f.what == "numbers" else "额度"
            print(f"平台拒绝了{what}请求 (the platform refused the {f.what} request) {f.request_id}：{f.reason}",
                  file=sys.stderr)
        if result.error:
            print(result.error, file=sys.stderr)
        if result.view is not None:
            _print_view(result.view)
    return EXIT_OK if result.complete else EXIT_WAITING


def cmd_stock_settings(args: argparse.Namespace) -> int:
    from app.services.stock import get_stock_settings, set_stock_settings

    open_store_of(args)
    given = {"block_size": args.block_size, "numbers_floor": args.numbers_floor, "quota_slice": args.quota_slice,
             "quota_floor": args.quota_floor}
    settings = (set_stock_settings(**given, clerk=args.clerk) if any(v is not None for v in given.values())
                else get_stock_settings())
    print(f"每次领用号码 (block size)：{settings.block_size}；号码下限 (numbers floor)：{settings.numbers_floor}；"
          f"每次下载额度 (quota slice)：{settings.quota_slice:f}；额度下限 (quota floor)：{settings.quota_floor:f}")
    return EXIT_OK


def register(commands: Subcommands) -> None:
    channel = commands.add_parser("channel", help="开票渠道：直连或平台开具 (the channel: direct or platform)")
    channel_sub = channel.add_subparsers(dest="channel_command", metavar="ACTION", required=True)
    show = channel_sub.add_parser("show", help="当前渠道 (the channel set)")
    show.set_defaults(handler=cmd_channel_show)
    chosen = channel_sub.add_parser("set", help="设置渠道 (set the channel)")
    chosen.add_argument("value", metavar="direct|platform")
    chosen.add_argument("--clerk", default="", help="who changes it (in the audit log)")
    chosen.set_defaults(handler=cmd_channel_set)

    stock = commands.add_parser("stock", help="直连渠道的号码和额度 (the direct channel's numbers and quota)")
    stock_sub = stock.add_subparsers(dest="stock_command", metavar="ACTION", required=True)
    stock_show = stock_sub.add_parser("show", help="剩余号码和额度 (numbers and quota left)")
    stock_show.add_argument("--json", action="store_true")
    stock_show.set_defaults(handler=cmd_stock_show)
    refill = stock_sub.add_parser("refill", help="向平台补领号码和额度 (draw numbers and quota from the platform)")
    refill.add_argument("--url", default=None, help="platform URL (default: the one in the settings)")
    add_token_options(refill)
    refill.add_argument("--timeout", type=float, default=10.0, help="seconds per call")
    refill.add_argument("--clerk", default="")
    refill.add_argument("--json", action="store_true")
    refill.set_defaults(handler=cmd_stock_refill)
    settings = stock_sub.add_parser("settings", help="补领设置 (refill settings)")
    settings.add_argument("--block-size", default=None)
    settings.add_argument("--numbers-floor", default=None)
    settings.add_argument("--quota-slice", default=None)
    settings.add_argument("--quota-floor", default=None)
    settings.add_argument("--clerk", default="")
    settings.set_defaults(handler=cmd_stock_settings)
